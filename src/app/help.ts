/**
 * The help tables an edge renders (the service's error catalogue, `--help` pages): every error
 * code and verification finding with its meaning and its fix.
 */
export { ERROR_HELP } from "../core/error-help.js";
export { CHECK_HELP, FINDING_NOTES } from "../core/verify/finding-help.js";
export { type FindingCode, type FindingParams, finding, severityOf } from "../core/verify/findings.js";
export { FINDING_CODES, renderFinding } from "../core/verify/messages.js";
