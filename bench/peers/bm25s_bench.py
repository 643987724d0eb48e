# The bm25s peer of bench/peers.mjs (optional: bm25s and PyStemmer from the package index).
# Same text, English stop words and Snowball English stemming, BM25 k1 1.2 b 0.75 (bm25s's
# "lucene" variant), one query at a time after a warm-up.
#   python3 bm25s_bench.py DOCS.tsv QUERIES.txt WARMUP K PASSES (the warm-up queries, PASSES times)
import json, os, sys, tempfile, time
import bm25s
import Stemmer

docs_file, queries_file, warmup, k, passes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ids, bodies = [], []
with open(docs_file, encoding="utf-8") as f:
    for line in f:
        i, _, body = line.rstrip("\n").partition("\t")
        ids.append(i)
        bodies.append(body)
with open(queries_file, encoding="utf-8") as f:
    queries = [line.rstrip("\n") for line in f]
stemmer = Stemmer.Stemmer("english")
t0 = time.perf_counter()
tokens = bm25s.tokenize(bodies, stopwords="en", stemmer=stemmer, show_progress=False)
retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
retriever.index(tokens, show_progress=False)
build_seconds = time.perf_counter() - t0
with tempfile.TemporaryDirectory() as d:
    retriever.save(d)
    index_bytes = sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))

def search(q):
    qt = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
    docs, _ = retriever.retrieve(qt, k=min(k, len(ids)), show_progress=False, n_threads=1)
    return [ids[int(x)] for x in docs[0]]

for _ in range(passes):
    for q in queries[:warmup]:
        search(q)
samples, tops = [], []
q0 = time.perf_counter()
for q in queries[warmup:]:
    t = time.perf_counter()
    tops.append(search(q))
    samples.append((time.perf_counter() - t) * 1000)
query_seconds = time.perf_counter() - q0
print(json.dumps({"version": bm25s.__version__, "build_seconds": build_seconds, "index_bytes": index_bytes,
                  "query_seconds": query_seconds, "samples_ms": samples, "top": tops}))
