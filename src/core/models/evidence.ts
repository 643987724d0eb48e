/** EvidenceRef (docs/design.md §2): exact bytes of a corpus document, addressed by byte span. */
import * as z from "zod";
import { ByteSpan, idOf, Sha256Hex } from "./common.js";

export const EvidenceRef = z.strictObject({
  id: idOf("ev"),
  uri: z.string().min(1),
  doc_id: z.string().min(1),
  chunk_id: Sha256Hex,
  /** Byte range of the evidence inside the document's UTF-8 text. */
  span: ByteSpan,
  sha256: Sha256Hex,
  /**
   * Path of the evidence bytes inside the run. Files are named by the sha256 of their
   * bytes, not by evidence id: the id covers this field, so naming by id would be circular.
   */
  content_path: z.string().regex(/^evidence\/[0-9a-f]{64}\.txt$/),
});
export type EvidenceRef = z.infer<typeof EvidenceRef>;
