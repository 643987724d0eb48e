/**
 * The llm reasoner's model call for one run: made only when the reasoner needs it (there is
 * enough evidence to ask about), from the request the pure core builds, and returned as the
 * recording the run stores. Shared by run jobs and live replay.
 */
import type { ModelCall } from "../core/models/model-call.js";
import { chatRequest, needsModelCall } from "../core/reason/llm.js";
import type { ReasonerInput } from "../core/reason/reasoner.js";
import {
  callModel,
  DEFAULT_ENDPOINT_SETTINGS,
  type EndpointSettings,
  type Pacer,
} from "../io/llm-endpoint.js";
import { loadTelemetry } from "./otel-gate.js";

export interface ModelCallOptions {
  settings?: EndpointSettings;
  /** Spaces request starts (eval --max-rps). */
  pace?: Pacer;
  /** Where the API key is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The recorded call for this input, or undefined when the reasoner asks no model. */
export async function modelCallFor(
  input: ReasonerInput,
  baseUrl: string,
  options: ModelCallOptions = {},
): Promise<ModelCall | undefined> {
  if (!needsModelCall(input)) return undefined;
  const request = chatRequest(input);
  const call = () =>
    callModel(baseUrl, request, options.settings ?? DEFAULT_ENDPOINT_SETTINGS, {
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.pace === undefined ? {} : { pace: options.pace }),
    });
  const telemetry = await loadTelemetry();
  return telemetry === undefined ? call() : telemetry.tracedModelCall(request, baseUrl, call);
}
