// Builds the view into one self-contained HTML file (no script, style or font fetched at run time):
//   node build.mjs                   -> ../../imini_mcp/mcp/apps/view.html (the file the package ships)
//   node build.mjs --out FILE        -> FILE instead (tests/mcp/test_view_bundle.py compares the two)
//   node build.mjs --harness DIR     -> also the test host page (harness/) into DIR, for tests/browser
// Same sources and package-lock.json, same bytes: esbuild is pinned, and nothing in the output depends on
// the time or the machine.
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const option = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? path.resolve(process.argv[at + 1]) : null;
};
const out = option("--out") ?? path.resolve(here, "../../imini_mcp/mcp/apps/view.html");
const harness = option("--harness");

// zod (the SDK's validator) keeps ~40 locales in its namespace; the view needs English only (saves 260 kB).
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(b) {
    b.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: "zod-locales", namespace: "stub" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: here,
    }));
  },
};

const common = { bundle: true, minify: true, write: false, legalComments: "none", logLevel: "warning" };
const [js, css] = await Promise.all([
  build({ ...common, entryPoints: [path.join(here, "src/main.ts")], format: "esm", target: "es2022", plugins: [zodEnglishOnly] }),
  build({ ...common, entryPoints: [path.join(here, "src/style.css")], target: "chrome120" }),
]);
const script = js.outputFiles[0].text.replaceAll("</script", "<\\/script"); // only our own tag may close it
const style = css.outputFiles[0].text.replaceAll("</style", "<\\/style");
const html = fs
  .readFileSync(path.join(here, "src/view.html"), "utf8")
  .replace("/*VIEW_CSS*/", () => style.trim()) // functions: no $-patterns in replacements
  .replace("/*VIEW_JS*/", () => script.trim());
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, html);
console.log(`${path.relative(process.cwd(), out)}: ${Buffer.byteLength(html)} bytes`);

if (harness) {
  const host = await build({ ...common, minify: false, entryPoints: [path.join(here, "harness/host.ts")], format: "esm", target: "es2022" });
  fs.mkdirSync(harness, { recursive: true });
  fs.writeFileSync(path.join(harness, "host.js"), host.outputFiles[0].text);
  fs.copyFileSync(path.join(here, "harness/index.html"), path.join(harness, "index.html"));
}
