/** The producer identity recorded in every run. A test keeps it equal to package.json. */
export const PRODUCER = { name: "canon-reason", version: "0.2.0" } as const;
