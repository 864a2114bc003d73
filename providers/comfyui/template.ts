import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ASPECT_RATIOS, type AspectRatio } from '../types';

/**
 * Workflow templates: API-format ComfyUI graphs (`{node_id: {class_type, inputs}}`, as the UI's
 * "Export (API)" writes them) with a map saying which node input takes which request value. A
 * value may go to several inputs (FLUX.2's Flux2Scheduler wants the same width and height as its
 * latent node). Templates are read and checked when the adapter is made, so a typo in a node id
 * fails the deployment at start-up instead of every job at run time.
 */

const targetSchema = z.strictObject({ node: z.string().min(1), input: z.string().min(1) });
const targetsSchema = z.union([targetSchema, z.array(targetSchema).min(1)]);

export type TemplateInputName =
  'prompt' | 'negative_prompt' | 'seed' | 'width' | 'height' | 'batch_size' | 'reference_image';

export const templateSpecSchema = z.strictObject({
  /** Path of the API-format JSON, relative to the process's working directory. */
  file: z.string().min(1),
  inputs: z.strictObject({
    prompt: targetsSchema,
    negative_prompt: targetsSchema.optional(),
    seed: targetsSchema.optional(),
    width: targetsSchema.optional(),
    height: targetsSchema.optional(),
    batch_size: targetsSchema.optional(),
    /** A LoadImage input: the reference image is uploaded to ComfyUI and its name goes here. */
    reference_image: targetsSchema.optional(),
  }),
  /** Only this node's images are returned (default: every node's `output` images, so no previews). */
  output_node: z.string().min(1).optional(),
  /** Long side in pixels when width/height are mapped; the deployment's `long_side` when unset. */
  long_side: z.number().int().min(64).max(8192).optional(),
  /** Width and height are rounded to this (16 for FLUX, 64 for some SD checkpoints). */
  size_multiple: z.union([z.literal(8), z.literal(16), z.literal(32), z.literal(64)]).default(16),
  /** Most images in one prompt when batch_size is mapped (the GPU's memory sets the real limit). */
  max_batch_size: z.number().int().min(1).max(64).default(8),
});

export type TemplateSpec = z.output<typeof templateSpecSchema>;

export interface TemplateTarget {
  node: string;
  input: string;
}

export interface WorkflowNode {
  class_type: string;
  inputs: Record<string, unknown>;
  [key: string]: unknown;
}

export type Workflow = Record<string, WorkflowNode>;

export interface WorkflowTemplate {
  name: string;
  /** Absolute path, for messages. */
  file: string;
  graph: Workflow;
  targets: Partial<Record<TemplateInputName, TemplateTarget[]>>;
  outputNode?: string;
  longSide?: number;
  sizeMultiple: number;
  maxBatchSize: number;
  /** The template's own size, when width/height are not mapped (the only size it can make). */
  fixedSize?: { width: number; height: number };
}

const graphCache = new Map<string, { mtimeMs: number; graph: Workflow }>();

/** Reads and checks one template; the error names the deployment, template, file, node and input. */
export function loadTemplate(name: string, spec: TemplateSpec, where: string): WorkflowTemplate {
  const file = resolve(spec.file);
  const fail = (problem: string): Error => new Error(`${where}: template "${name}" (${file}): ${problem}`);
  const graph = readGraph(file, fail);

  const targets: WorkflowTemplate['targets'] = {};
  for (const [key, value] of Object.entries(spec.inputs)) {
    if (value === undefined) continue;
    const list = Array.isArray(value) ? value : [value];
    for (const target of list) {
      const node = graph[target.node];
      if (!node) throw fail(`inputs.${key}: node "${target.node}" is not in the workflow`);
      if (!(target.input in node.inputs)) {
        throw fail(
          `inputs.${key}: node "${target.node}" (${node.class_type}) has no input "${target.input}"`,
        );
      }
      if (Array.isArray(node.inputs[target.input])) {
        throw fail(
          `inputs.${key}: node "${target.node}" (${node.class_type}) input "${target.input}" is a link; map the node it comes from`,
        );
      }
    }
    targets[key as TemplateInputName] = list;
  }
  if (Boolean(targets.width) !== Boolean(targets.height)) {
    throw fail('map both inputs.width and inputs.height, or neither');
  }
  if (spec.output_node !== undefined && !graph[spec.output_node]) {
    throw fail(`output_node "${spec.output_node}" is not in the workflow`);
  }
  return {
    name,
    file,
    graph,
    targets,
    ...(spec.output_node === undefined ? {} : { outputNode: spec.output_node }),
    ...(spec.long_side === undefined ? {} : { longSide: spec.long_side }),
    sizeMultiple: spec.size_multiple,
    maxBatchSize: spec.max_batch_size,
    ...(targets.width ? {} : withFixedSize(graph)),
  };
}

function readGraph(file: string, fail: (problem: string) => Error): Workflow {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch (error) {
    throw fail(`cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  const cached = graphCache.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.graph;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw fail(`is not readable JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail('is not an API-format workflow (an object of nodes)');
  }
  if ('nodes' in raw && 'links' in raw) {
    throw fail('is a UI-format workflow; export it with "Export (API)" instead');
  }
  for (const [id, node] of Object.entries(raw)) {
    const ok =
      typeof node === 'object' &&
      node !== null &&
      typeof (node as { class_type?: unknown }).class_type === 'string' &&
      typeof (node as { inputs?: unknown }).inputs === 'object' &&
      (node as { inputs?: unknown }).inputs !== null;
    if (!ok) throw fail(`node "${id}" has no class_type or inputs`);
  }
  const graph = raw as Workflow;
  graphCache.set(file, { mtimeMs, graph });
  return graph;
}

/** The size of the latent node (the first node with literal width and height, latents first). */
function withFixedSize(graph: Workflow): { fixedSize?: { width: number; height: number } } {
  const nodes = Object.values(graph).sort(
    (a, b) => Number(!a.class_type.includes('Latent')) - Number(!b.class_type.includes('Latent')),
  );
  for (const node of nodes) {
    const { width, height } = node.inputs;
    if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0) {
      return { fixedSize: { width, height } };
    }
  }
  return {};
}

/** The aspect ratio nearest a fixed-size template's own (1:1 when it has no size to read). */
export function fixedAspectRatio(template: WorkflowTemplate): AspectRatio {
  if (!template.fixedSize) return '1:1';
  const ratio = Math.log(template.fixedSize.width / template.fixedSize.height);
  let best: AspectRatio = '1:1';
  let distance = Number.POSITIVE_INFINITY;
  for (const candidate of ASPECT_RATIOS) {
    const [w, h] = candidate.split(':').map(Number) as [number, number];
    const d = Math.abs(Math.log(w / h) - ratio);
    if (d < distance) [best, distance] = [candidate, d];
  }
  return best;
}

export function templateDimensions(
  aspectRatio: AspectRatio,
  longSide: number,
  multiple: number,
): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const fit = (x: number): number => Math.max(multiple, Math.round(x / multiple) * multiple);
  const long = fit(longSide);
  const short = fit((long * Math.min(w, h)) / Math.max(w, h));
  return w >= h ? { width: long, height: short } : { width: short, height: long };
}

/** A copy of the template's graph with the request's values written into the mapped inputs. */
export function fillTemplate(
  template: WorkflowTemplate,
  values: Partial<Record<TemplateInputName, string | number>>,
): Workflow {
  const graph = structuredClone(template.graph);
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    for (const target of template.targets[key as TemplateInputName] ?? []) {
      (graph[target.node] as WorkflowNode).inputs[target.input] = value;
    }
  }
  return graph;
}

/** Whether the request sets this node input (a validation error there is the caller's). */
export function isRequestInput(template: WorkflowTemplate, node: string, input: string): boolean {
  return Object.values(template.targets).some((list) =>
    list.some((target) => target.node === node && target.input === input),
  );
}
