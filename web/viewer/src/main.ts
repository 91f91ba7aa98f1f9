// imini-mcp's MCP Apps view: shown by hosts next to generate_video and get_task results.
//   dry run   -> the storyboard as a timeline, the estimated credits and a Submit button
//   submitted -> the task's status and elapsed time, followed until it ends
//   done      -> the video player, its cover, size, length and links, and the storyboard it came from

import { App, applyDocumentTheme, applyHostStyleVariables, type McpUiHostContext } from "@modelcontextprotocol/ext-apps";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { CallFailed, newKey, requestOf, submit, textOf } from "./calls";
import { button, h } from "./dom";
import { type Generated, type Task, isGenerated, isTask, storyboardOf, withInputImages } from "./model";
import { storyboardView } from "./storyboard";
import { TaskPanel } from "./task";

const root = document.getElementById("app") as HTMLElement;
const app = new App({ name: "imini-video", version: "0.1.0" }, {}, { autoResize: true });
let toolArgs: Record<string, unknown> = {};
let panel: TaskPanel | null = null;
const submitKey = newKey(); // one per view: a second click, or a retried call, cannot bill twice

function theme(context: Partial<McpUiHostContext>): void {
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
}

// Every handler before connect(): a host may send the input and the result right after the handshake.
app.ontoolinput = (params) => {
  toolArgs = params.arguments ?? {};
};
app.ontoolresult = (result) => show(result);
app.ontoolcancelled = (params) => {
  root.replaceChildren(h("p", { class: "hint" }, `Cancelled${params.reason ? `: ${params.reason}` : ""}.`));
};
app.onhostcontextchanged = theme;
app.onteardown = async () => {
  panel?.stop();
  return {};
};

function show(result: CallToolResult): void {
  panel?.stop();
  panel = null;
  const data = result.structuredContent;
  if (result.isError || !data) {
    root.replaceChildren(h("div", { class: "failure", role: "alert" }, h("pre", { class: "error", id: "error" }, textOf(result))));
  } else if (isGenerated(data)) {
    showGenerated(data);
  } else if (isTask(data)) {
    showTask(data);
  }
}

function showGenerated(result: Generated): void {
  const cost = result.estimated_cost;
  const board = withInputImages(storyboardOf(result.request_body, cost.seconds, cost.basis), toolArgs);
  const notes = (result.notes ?? []).map((note) => h("p", { class: "note" }, note));
  if (result.task) {
    root.replaceChildren(taskView(result.task), details(storyboardView(board)));
    return;
  }
  const credits = cost.credits.toLocaleString("en");
  const action = h("div", { class: "actions" });
  // The arguments the dry run was called with; a host that never sent them gets imini's body, which the tool
  // also takes (an inline image shortened in it is refused, and nothing is spent).
  const args = Object.keys(toolArgs).length ? toolArgs : result.request_body;
  const go = button(`Submit: spends about ${credits} credits`, () => void onSubmit(go, action, args), { id: "submit", class: "primary" });
  action.append(go);
  root.replaceChildren(
    h("p", { class: "cost", id: "cost" }, h("b", {}, `≈ ${credits} credits`), ` (${cost.basis}; an estimate, imini decides the charge)`),
    storyboardView(board),
    ...notes,
    action,
  );
}

async function onSubmit(go: HTMLButtonElement, action: HTMLElement, args: Record<string, unknown>): Promise<void> {
  go.disabled = true;
  go.textContent = "Submitting…";
  try {
    const result = await submit(app, args, submitKey);
    if (!result.task) throw new CallFailed(result.next_step);
    action.replaceWith(taskView(result.task));
    go.remove();
    if (app.getHostCapabilities()?.updateModelContext) {
      const text = `The user submitted this storyboard from the video view: imini task ${result.task.task_id} (credits are being spent). Follow it with get_task; do not submit it again.`;
      void app.updateModelContext({ content: [{ type: "text", text }] }).catch(() => undefined);
    }
  } catch (error) {
    go.disabled = false;
    go.textContent = "Submit again";
    const why = error instanceof Error ? error.message : String(error);
    action.prepend(h("pre", { class: "error", id: "error" }, `Not submitted: ${why}`));
  }
}

function taskView(task: Task): HTMLElement {
  panel = new TaskPanel(app);
  panel.show(task);
  return panel.el;
}

function showTask(task: Task): void {
  const board = h("div", {});
  root.replaceChildren(taskView(task), board);
  // A view opened on get_task knows only the task id: the storyboard comes from the journal's task resource.
  void requestOf(app, task.task_id).then((body) => {
    if (body) board.replaceWith(details(storyboardView(storyboardOf(body))));
  });
}

function details(content: HTMLElement): HTMLElement {
  return h("details", { class: "source", open: true }, h("summary", {}, "Storyboard"), content);
}

root.replaceChildren(h("p", { class: "hint" }, "Waiting for the tool's result…"));
await app.connect();
theme(app.getHostContext() ?? {});
