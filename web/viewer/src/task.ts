// A submitted task: its status and elapsed time while it renders (following it with bounded get_task calls),
// imini's message and the next step if it fails, and the player with its cover, size, length and links once done.

import type { App } from "@modelcontextprotocol/ext-apps";
import { CallFailed, getTask, localMedia, POLL_WAIT_SECONDS } from "./calls";
import { button, h } from "./dom";
import { type Task, type Video, clock } from "./model";

const MAX_FAILED_CHECKS = 5;

export class TaskPanel {
  readonly el = h("section", { class: "task", "aria-label": "Video task" });
  private readonly status = h("p", { class: "status", id: "status", role: "status", "aria-live": "polite" });
  private readonly body = h("div", {});
  private ticker: number | undefined;
  private following = false;
  private stopped = false;

  constructor(private readonly app: App) {
    this.el.append(this.status, this.body);
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.ticker);
  }

  /** Shows `task` and, until it ends, follows it. */
  show(task: Task): void {
    this.render(task);
    if (!task.is_terminal && !this.following) void this.follow(task.task_id);
  }

  private render(task: Task): void {
    this.status.className = `status ${task.status}`;
    this.status.dataset.status = task.status;
    window.clearInterval(this.ticker);
    const since = Date.parse(task.created_at ?? "") || Date.now();
    const line = (): string => {
      const end = task.is_terminal ? Date.parse(task.completed_at ?? "") || Date.now() : Date.now();
      const took = clock((end - since) / 1000);
      if (!task.is_terminal) return `${task.status} · ${took} since submit`;
      return `${task.status} · ${task.status === "succeeded" ? "made in" : "after"} ${took}`;
    };
    this.status.replaceChildren(h("b", {}, `Task ${task.task_id}`), " ", h("span", { id: "elapsed" }, line()));
    if (!task.is_terminal) this.ticker = window.setInterval(() => this.status.lastElementChild?.replaceChildren(line()), 1000);
    if (task.status === "succeeded") this.body.replaceChildren(...(task.videos ?? []).map((v, i) => this.player(task, v, i + 1)));
    else if (task.is_terminal) this.body.replaceChildren(failure(task));
    else this.body.replaceChildren(h("p", { class: "hint" }, "A video usually takes 1–3 minutes. This view checks on it by itself."));
  }

  private async follow(taskId: string): Promise<void> {
    this.following = true;
    for (let failed = 0; !this.stopped; ) {
      try {
        const task = await getTask(this.app, taskId, POLL_WAIT_SECONDS);
        failed = 0;
        this.render(task);
        if (task.is_terminal) break;
      } catch (error) {
        const why = error instanceof CallFailed ? error.message : String(error);
        if (++failed >= MAX_FAILED_CHECKS) {
          this.body.replaceChildren(
            h("p", { class: "error" }, `Could not check the task: ${why}`),
            button("Check again", () => void this.follow(taskId)),
          );
          break;
        }
        this.body.replaceChildren(h("p", { class: "hint" }, `Could not check the task (${why}); trying again.`));
        await new Promise((resolve) => window.setTimeout(resolve, 1000 * 2 ** failed));
      }
    }
    this.following = false;
  }

  private player(task: Task, video: Video, n: number): HTMLElement {
    const el = h("video", { id: n === 1 ? "video" : undefined, controls: true, muted: true, playsinline: true, preload: "metadata" });
    el.muted = true;
    const links = h("p", { class: "links" });
    const note = h("p", { class: "hint", hidden: true });
    const figure = h("figure", { class: "player" }, el, h("figcaption", {}, describe(video, task, n)), note, links);
    this.linkTo(links, "Open video", video.url, "video/mp4");
    if (video.cover_url) this.linkTo(links, "Open cover", video.cover_url, "image/jpeg");
    void this.load(task, video, n, el, note, figure);
    return figure;
  }

  /** Plays the video from its URL, or from the server's local copy; when neither plays, shows the cover. */
  private async load(task: Task, video: Video, n: number, el: HTMLVideoElement, note: HTMLElement, figure: HTMLElement): Promise<void> {
    const poster = await this.source(task.task_id, "cover", n, video.cover_url);
    if (poster) el.poster = poster;
    let refreshed = false;
    el.addEventListener("error", () => {
      if (!refreshed) {
        refreshed = true; // an expired URL: ask for the task again, once
        void getTask(this.app, task.task_id, 0)
          .then(async (fresh) => {
            const again = fresh.videos?.[n - 1];
            const src = again && again.url !== video.url ? await this.source(task.task_id, "video", n, again.url) : null;
            if (src && src !== el.src) el.src = src;
            else this.fallback(el, note, figure, poster);
          })
          .catch(() => this.fallback(el, note, figure, poster));
      } else {
        this.fallback(el, note, figure, poster);
      }
    });
    const src = await this.source(task.task_id, "video", n, video.url);
    if (src) el.src = src;
    else this.fallback(el, note, figure, poster);
  }

  private async source(taskId: string, kind: "video" | "cover", n: number, url?: string | null): Promise<string | null> {
    if (!url) return null;
    if (/^(https?|data):/i.test(url)) return url;
    return localMedia(this.app, taskId, kind, n); // file:// (--simulate): no sandboxed view may load it
  }

  private fallback(el: HTMLVideoElement, note: HTMLElement, figure: HTMLElement, poster: string | null): void {
    el.hidden = true;
    figure.classList.add("blocked");
    if (poster && !figure.querySelector("img.cover")) {
      const img = h("img", { class: "cover", src: poster, alt: "Cover of the video" });
      img.addEventListener("error", () => img.remove());
      el.after(img);
    }
    note.hidden = false;
    note.textContent = "The video cannot play here (this app's policy blocks it, or its link expired). Open it instead.";
  }

  private linkTo(parent: HTMLElement, label: string, url: string, mimeType: string): void {
    parent.append(button(label, () => void this.app.openLink({ url })));
    if (label === "Open video" && this.app.getHostCapabilities()?.downloadFile) {
      const name = url.split(/[/?#]/).filter(Boolean).pop() ?? "video.mp4";
      parent.append(button("Download", () => void this.app.downloadFile({ contents: [{ type: "resource_link", uri: url, name, mimeType }] })));
    }
  }
}

function describe(video: Video, task: Task, n: number): string {
  const parts = [];
  if (video.width && video.height) parts.push(`${video.width}×${video.height}`);
  if (video.duration) parts.push(`${video.duration} s`);
  const saved = task.files?.filter((f) => f.kind === "video")[n - 1];
  if (saved) parts.push(`${(saved.size / 2 ** 20).toFixed(1)} MB, saved at ${saved.path}`);
  return parts.join(" · ") || "Video";
}

function failure(task: Task): HTMLElement {
  const message = task.error ? `${task.error.code ?? "error"}: ${task.error.message ?? "no message"}` : task.status;
  return h(
    "div",
    { class: "failure", role: "alert" },
    h("p", { class: "error", id: "error" }, `imini says: ${message}`),
    h("p", { class: "next", id: "next-step" }, task.next_step),
  );
}
