/**
 * The llm reasoner's model call for one run: made only when the reasoner needs it (there is
 * enough evidence to ask about), from the request the pure core builds, and returned as the
 * recording the run stores. Shared by run jobs and live replay.
 *
 * Some servers (llama.cpp builds among them) reject `response_format: json_schema` with HTTP
 * 400: the call is then made once more without it, the answer's form asked for by the prompt
 * alone, and the recorded request shows which mode was used (the claim's structured
 * `response_format` says it too). A second rejection is the call's failure.
 */
import type { ModelCall } from "../../core/models/model-call.js";
import { chatRequest, needsModelCall, type ResponseMode } from "../../core/reason/llm.js";
import type { ReasonerInput } from "../../core/reason/reasoner.js";
import {
  callModel,
  DEFAULT_ENDPOINT_SETTINGS,
  type EndpointSettings,
  ModelEndpointError,
  type Pacer,
} from "../../io/model/llm-endpoint.js";

export { DEFAULT_BASE_URL, withoutCredentials } from "../../core/reason/llm.js";
export {
  apiKeyFrom,
  DEFAULT_ENDPOINT_SETTINGS,
  type EndpointSettings,
  type Pacer,
  pacer,
} from "../../io/model/llm-endpoint.js";

import { loadTelemetry } from "../ops/otel-gate.js";

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
  const telemetry = await loadTelemetry();
  const attempt = (mode: ResponseMode) => {
    const request = chatRequest(input, mode);
    const call = () =>
      callModel(baseUrl, request, options.settings ?? DEFAULT_ENDPOINT_SETTINGS, {
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.pace === undefined ? {} : { pace: options.pace }),
      });
    return telemetry === undefined ? call() : telemetry.tracedModelCall(request, baseUrl, call);
  };
  try {
    return await attempt("json_schema");
  } catch (error) {
    if (!(error instanceof ModelEndpointError) || error.rejected !== 400) throw error;
    try {
      return await attempt("prompt");
    } catch (again) {
      if (!(again instanceof ModelEndpointError)) throw again;
      throw new ModelEndpointError(
        `${again.message} (retried without response_format after: ${error.message})`,
        again.exitCode === 3 ? 3 : 2,
        again.rejected,
      );
    }
  }
}
