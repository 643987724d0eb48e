/**
 * The defaults an edge offers for a run's settings: the corpus limits, the model endpoint's time
 * limits and retries, and the progress callback the index build reports to.
 */
export { type CorpusLimits, DEFAULT_LIMITS } from "../../io/corpus/corpus-reader.js";
export type { Progress } from "../../io/index-cache/index-cache.js";
export { DEFAULT_ENDPOINT_SETTINGS, type EndpointSettings } from "../../io/model/llm-endpoint.js";
