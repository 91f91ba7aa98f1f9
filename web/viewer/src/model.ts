// What the view reads from imini-mcp's results: the shapes of generate_video's and get_task's structured
// content (imini_mcp/app/results.py), and the storyboard drawn from a request body.

export interface Video {
  url: string;
  width?: number | null;
  height?: number | null;
  duration?: number | null;
  cover_url?: string | null;
}

export interface LocalFile {
  path: string;
  kind: string;
  size: number;
}

export interface Task {
  task_id: string;
  status: string;
  is_terminal: boolean;
  created_at?: string | null;
  completed_at?: string | null;
  videos?: Video[];
  error?: { code?: string | null; message?: string | null } | null;
  files?: LocalFile[];
  next_step: string;
}

export interface Cost {
  credits: number;
  seconds: number;
  basis: string;
}

export interface Generated {
  submitted: boolean;
  replayed?: boolean;
  request_body: Body;
  estimated_cost: Cost;
  notes?: string[];
  task?: Task | null;
  next_step: string;
}

export type Body = Record<string, unknown>;

export interface Shot {
  prompt: string;
  seconds: number;
}

export interface Reference {
  url: string;
  role: string;
}

export interface Storyboard {
  model: string;
  shots: Shot[];
  seconds: number;
  resolution: string | null; // null: the model's default
  aspectRatio: string | null;
  images: Reference[];
  otherReferences: number; // reference videos and audio: counted, not drawn
}

export function isGenerated(value: unknown): value is Generated {
  return isRecord(value) && "submitted" in value && "request_body" in value;
}

export function isTask(value: unknown): value is Task {
  return isRecord(value) && typeof value.task_id === "string" && typeof value.status === "string";
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function seconds(value: unknown): number {
  const n = typeof value === "string" ? Number.parseFloat(value) : typeof value === "number" ? value : NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** The storyboard of a request body. `totalSeconds` is the priced length (the model's default included). */
export function storyboardOf(body: Body, totalSeconds?: number, basis?: string): Storyboard {
  const extra = isRecord(body.extra_params) ? body.extra_params : {};
  let shots: Shot[] = list(extra.multi_prompt)
    .filter(isRecord)
    .map((shot) => ({ prompt: String(shot.prompt ?? ""), seconds: seconds(shot.duration) }))
    .filter((shot) => shot.seconds > 0);
  const total = seconds(body.duration) || totalSeconds || shots.reduce((sum, s) => sum + s.seconds, 0) || 5;
  if (shots.length === 0) shots = [{ prompt: String(body.prompt ?? ""), seconds: total }];
  const images = list(body.reference_images)
    .filter(isRecord)
    .map((ref) => ({ url: String(ref.url ?? ""), role: String(ref.reference_type ?? "asset") }));
  return {
    model: String(body.model ?? "kling/kling-v3"),
    shots,
    seconds: total,
    // The dry run's price basis starts with the resolution it priced ("720P with audio: …").
    resolution: typeof body.resolution === "string" ? body.resolution : (/^(\d+P)\b/.exec(basis ?? "")?.[1] ?? null),
    aspectRatio: typeof body.aspect_ratio === "string" ? body.aspect_ratio : null,
    images,
    otherReferences: list(body.reference_videos).length + list(body.reference_audios).length,
  };
}

/** The reference images as the tool input gave them: results shorten inline (data:) images, the input does not. */
export function withInputImages(board: Storyboard, input: Body): Storyboard {
  const given = storyboardOf(input).images;
  return given.length === board.images.length ? { ...board, images: given } : board;
}

/** Output size in pixels: the short side is the resolution's number, the long side follows the ratio. */
export function frameSize(resolution: string | null, aspectRatio: string | null): [number, number] | null {
  const short = Number.parseInt(resolution ?? "", 10);
  const ratio = /^(\d+):(\d+)$/.exec(aspectRatio ?? "");
  if (!short || !ratio) return null;
  const [w, h] = [Number(ratio[1]), Number(ratio[2])];
  const long = 2 * Math.round((short * Math.max(w, h)) / Math.min(w, h) / 2);
  return w >= h ? [long, short] : [short, long];
}

export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
