/** What a check finds: a stable code, a severity, and a message rendered for people. */
import type { Severity } from "../models/report.js";

export interface Issue {
  code: string;
  severity: Severity;
  message: string;
}

export const error = (code: string, message: string): Issue => ({ code, severity: "error", message });
export const warning = (code: string, message: string): Issue => ({ code, severity: "warning", message });
