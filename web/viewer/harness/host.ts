// The test host for tests/browser: what an MCP Apps host does, in one page.
//   - an MCP client (streamable HTTP to /mcp on this origin) that advertises the Apps extension;
//   - per mount: reads the tool's ui:// resource, puts it in a sandboxed iframe (allow-scripts only: an opaque
//     origin) under the CSP built from the resource's _meta.ui.csp as the spec describes, connects an AppBridge,
//     sends the tool input, calls the tool and sends its result;
//   - logs what the view asks of the host (tools/call, resources/read, open-link, download, model context).
// A real web host puts a sandbox proxy on a second origin in between; the view cannot tell the difference.

import { Client } from "@modelcontextprotocol/client";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport, RESOURCE_MIME_TYPE, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";

type Csp = { connectDomains?: string[]; resourceDomains?: string[] };
type MountOptions = { theme?: "light" | "dark"; mediaSrc?: string; expireVideoUrl?: boolean };

const HOST = { name: "imini-test-host", version: "1.0.0" };
const log: Array<Record<string, unknown>> = [];
const client = new Client(HOST, { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: [RESOURCE_MIME_TYPE] } } } });
await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
const { tools } = await client.listTools();

/** The spec's CSP construction from the resource's declared domains (mediaSrc: a stricter host's media-src). */
function policy(csp: Csp | undefined, mediaSrc?: string): string {
  const r = (csp?.resourceDomains ?? []).join(" ");
  const c = (csp?.connectDomains ?? []).join(" ");
  return [
    "default-src 'none'",
    `script-src 'self' 'unsafe-inline' ${r}`,
    `style-src 'self' 'unsafe-inline' ${r}`,
    `img-src 'self' data: ${r}`,
    `font-src 'self' ${r}`,
    `media-src ${mediaSrc ?? `'self' data: ${r}`}`,
    `connect-src 'self' ${c}`,
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ].join("; ");
}

async function mount(toolName: string, args: Record<string, unknown>, options: MountOptions = {}) {
  const tool = tools.find((t) => t.name === toolName);
  if (!tool) throw new Error(`no tool ${toolName}`);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(`${toolName} has no view`);
  const started = performance.now();
  const content = (await client.readResource({ uri })).contents[0] as { text: string; _meta?: { ui?: { csp?: Csp } } };
  const csp = policy(content._meta?.ui?.csp, options.mediaSrc);
  document.body.className = options.theme ?? "light";
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.title = "imini video view";
  iframe.srcdoc = content.text.replace("<head>", () => `<head><meta http-equiv="Content-Security-Policy" content="${csp}">`);
  document.querySelector("iframe")?.remove();
  document.body.append(iframe);

  const bridge = new AppBridge(
    client,
    HOST,
    { openLinks: {}, serverTools: {}, serverResources: {}, logging: {}, downloadFile: {}, updateModelContext: { text: {} } },
    {
      hostContext: {
        theme: options.theme ?? "light",
        displayMode: "inline",
        availableDisplayModes: ["inline"],
        platform: "web",
        containerDimensions: { width: 640, maxHeight: 1400 },
        toolInfo: { tool },
      },
    },
  );
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${height}px`;
  };
  bridge.onopenlink = async ({ url }) => (log.push({ openLink: url }), {});
  bridge.ondownloadfile = async ({ contents }) => (log.push({ download: contents }), {});
  bridge.onupdatemodelcontext = async (params) => (log.push({ modelContext: params }), {});
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  const callTool = bridge.oncalltool!; // set by connect(): forwards to the server
  bridge.oncalltool = (params, extra) => (log.push({ tool: params.name, arguments: params.arguments }), callTool(params, extra));
  const readResource = bridge.onreadresource!;
  bridge.onreadresource = (params, extra) => (log.push({ resource: params.uri }), readResource(params, extra));
  await initialized; // a host sends nothing before the view's `initialized`
  const loadMs = performance.now() - started;
  await bridge.sendToolInput({ arguments: args });
  const result = await client.callTool({ name: toolName, arguments: args });
  if (options.expireVideoUrl) {
    // What a view sees when a result's video URL has expired since: a URL that no longer answers.
    for (const video of (result.structuredContent as { videos?: { url: string }[] })?.videos ?? []) video.url = "https://expired.invalid/video.mp4";
  }
  await bridge.sendToolResult(result);
  return { loadMs, result };
}

async function call(name: string, args: Record<string, unknown>) {
  return client.callTool({ name, arguments: args });
}

Object.assign(window, { host: { mount, call, log } });
document.title = "host ready";
