/**
 * What a corpus constraint names (docs/design.md §2): a path to read, or a snapshot already in the store,
 * written `sha256:<64 hex>`. Parsed once where a user's input enters; the layers below take the
 * typed value and never re-test the string. The recorded spec keeps the string form.
 */
export type CorpusRef = { kind: "path"; path: string } | { kind: "snapshot"; hash: string };

const SNAPSHOT = /^sha256:([0-9a-f]{64})$/;

export function parseCorpusRef(value: string): CorpusRef {
  const hash = SNAPSHOT.exec(value)?.[1];
  return hash === undefined ? { kind: "path", path: value } : { kind: "snapshot", hash };
}

export function snapshotRef(hash: string): CorpusRef {
  return { kind: "snapshot", hash };
}

/** The string a spec records: the path, or `sha256:<hash>`. */
export function corpusRefString(ref: CorpusRef): string {
  return ref.kind === "path" ? ref.path : `sha256:${ref.hash}`;
}
