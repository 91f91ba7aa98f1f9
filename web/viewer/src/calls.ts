// Every call the view makes to the server, through the host. Each get_task waits at most POLL_WAIT_SECONDS,
// far below the bridge's request timeout, so no call is cut off while the server still waits.

import type { App } from "@modelcontextprotocol/ext-apps";
import type { CallToolResult } from "@modelcontextprotocol/client";
import { type Generated, type Task, isGenerated, isRecord, isTask } from "./model";

export const BRIDGE_TIMEOUT_MS = 60_000; // the App's default request timeout (DEFAULT_REQUEST_TIMEOUT_MSEC)
export const POLL_WAIT_SECONDS = 10; // a status change shows within this, the clock ticks every second

export class CallFailed extends Error {}

export function textOf(result: CallToolResult): string {
  return result.content
    .map((block) => (block.type === "text" ? block.text : ""))
    .join("\n")
    .trim();
}

async function call(app: App, name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await app.callServerTool({ name, arguments: args }, { timeout: BRIDGE_TIMEOUT_MS });
  if (result.isError) throw new CallFailed(textOf(result) || `${name} failed`);
  return result.structuredContent;
}

export async function getTask(app: App, taskId: string, waitSeconds: number): Promise<Task> {
  const task = await call(app, "get_task", { task_id: taskId, wait_seconds: Math.min(waitSeconds, POLL_WAIT_SECONDS) });
  if (!isTask(task)) throw new CallFailed("get_task gave no task");
  return task;
}

/** Submits what the dry run checked: the same arguments, dry_run false, returning at once. */
export async function submit(app: App, args: Record<string, unknown>, key: string): Promise<Generated> {
  const result = await call(app, "generate_video", {
    ...args,
    dry_run: false,
    wait_seconds: 0,
    idempotency_key: args.idempotency_key ?? key,
  });
  if (!isGenerated(result)) throw new CallFailed("generate_video gave no result");
  return result;
}

/** A task's video or cover as a data: URL, read through the host from the server's local copy. */
export async function localMedia(app: App, taskId: string, kind: "video" | "cover", n: number): Promise<string | null> {
  if (!app.getHostCapabilities()?.serverResources) return null;
  try {
    const read = await app.readServerResource({ uri: `imini://tasks/${taskId}/${kind}/${n}` }, { timeout: BRIDGE_TIMEOUT_MS });
    const content = read.contents[0];
    if (!content || !("blob" in content)) return null;
    return `data:${content.mimeType ?? (kind === "video" ? "video/mp4" : "image/jpeg")};base64,${content.blob}`;
  } catch {
    return null;
  }
}

/** The request a journalled task was made from (the task resource), for a view opened on get_task. */
export async function requestOf(app: App, taskId: string): Promise<Record<string, unknown> | null> {
  if (!app.getHostCapabilities()?.serverResources) return null;
  try {
    const read = await app.readServerResource({ uri: `imini://tasks/${taskId}` }, { timeout: BRIDGE_TIMEOUT_MS });
    const content = read.contents[0];
    const data: unknown = content && "text" in content ? JSON.parse(content.text) : null;
    return isRecord(data) && isRecord(data.request) ? data.request : null;
  } catch {
    return null;
  }
}

export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  return `view-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
