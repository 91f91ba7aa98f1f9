// The storyboard: shots as segments of a timeline, each as wide as its share of the length; the frame drawn
// to scale (aspect ratio and resolution); the reference images as thumbnails.

import { h } from "./dom";
import { type Reference, type Storyboard, frameSize } from "./model";

const FRAME_SCALE = 0.075; // pixels drawn per output pixel: 1080P 16:9 is drawn 144×81

export function storyboardView(board: Storyboard): HTMLElement {
  return h(
    "section",
    { class: "storyboard", "aria-label": "Storyboard" },
    h(
      "div",
      { class: "specs" },
      frame(board),
      h(
        "dl",
        {},
        h("dt", {}, "Length"),
        h("dd", { id: "length" }, `${board.seconds} s in ${board.shots.length} shot${board.shots.length > 1 ? "s" : ""}`),
        h("dt", {}, "Model"),
        h("dd", {}, board.model),
      ),
      board.images.length ? references(board.images, board.otherReferences) : null,
    ),
    timeline(board),
  );
}

function frame(board: Storyboard): HTMLElement {
  const size = frameSize(board.resolution, board.aspectRatio ?? "16:9");
  const [w, h_] = size ?? [1280, 720];
  const label = [board.resolution ?? "default resolution", board.aspectRatio ?? "default ratio"].join(" · ");
  return h(
    "figure",
    { class: "frame" },
    h("div", {
      class: `box${board.aspectRatio && board.resolution ? "" : " assumed"}`,
      id: "frame",
      style: `width:${Math.round(w * FRAME_SCALE)}px;height:${Math.round(h_ * FRAME_SCALE)}px`,
      title: size && board.aspectRatio ? `${w}×${h_} pixels` : "the model's default (drawn as 16:9)",
    }),
    h("figcaption", {}, label, size && board.aspectRatio ? h("small", {}, `${w}×${h_}`) : null),
  );
}

function timeline(board: Storyboard): HTMLElement {
  const total = board.shots.reduce((sum, shot) => sum + shot.seconds, 0) || board.seconds;
  const segments = board.shots.map((shot, i) =>
    h(
      "li",
      {
        class: "shot",
        style: `width:${(100 * shot.seconds) / total}%`,
        tabindex: 0,
        "data-seconds": shot.seconds,
        "aria-label": `Shot ${i + 1}, ${shot.seconds} seconds: ${shot.prompt || "no prompt"}`,
        title: shot.prompt,
      },
      h("span", { class: "shot-head" }, `${i + 1} · ${shot.seconds} s`),
      h("span", { class: "shot-prompt" }, shot.prompt || "(no prompt)"),
    ),
  );
  const ticks = h("div", { class: "ruler", "aria-hidden": "true" }, h("span", {}, "0 s"), h("span", {}, `${total} s`));
  return h("div", { class: "timeline" }, h("ol", { class: "shots", "aria-label": "Shots" }, ...segments), ticks);
}

function references(images: Reference[], others: number): HTMLElement {
  const thumbs = images.map((ref) => {
    const img = h("img", { src: ref.url, alt: `${ref.role.replace("_", " ")} reference`, loading: "lazy" });
    const tile = h("figure", { class: "thumb" }, img, h("figcaption", {}, ref.role.replace("_", " ")));
    // A host's policy may block images from other hosts, and long inline images are shortened in results.
    img.addEventListener("error", () => {
      img.replaceWith(h("span", { class: "missing", title: ref.url }, hostOf(ref.url)));
    });
    return tile;
  });
  const more = others ? h("p", { class: "hint" }, `+ ${others} reference video/audio`) : null;
  return h("div", { class: "refs", "aria-label": "Reference images" }, ...thumbs, more);
}

function hostOf(url: string): string {
  if (url.startsWith("data:")) return "inline image";
  try {
    return new URL(url).host || url;
  } catch {
    return url.slice(0, 24);
  }
}
