// A small element builder. Text goes in as text nodes only (prompts and messages are user or server text).

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === "class") el.className = String(value);
    else if (name === "style") setStyle(el, String(value));
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

export function button(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const el = h("button", { type: "button", ...attrs }, label);
  el.addEventListener("click", onClick);
  return el;
}

/** Inline styles through the CSSOM, which a policy without 'unsafe-inline' styles still allows. */
function setStyle(el: HTMLElement, declarations: string): void {
  for (const declaration of declarations.split(";")) {
    const [property, value] = declaration.split(":");
    if (property && value) el.style.setProperty(property.trim(), value.trim());
  }
}
