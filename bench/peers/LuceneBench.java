// The Lucene peer of bench/peers.mjs: builds an index of the same passages with English
// analysis (EnglishAnalyzer: possessives, the English stop words, Porter stemming) and
// BM25(k1 1.2, b 0.75) on one thread, then answers the same queries on one thread after a
// warm-up. Compiled and run by bench/peers.mjs against Debian's liblucene8-java.
//   java -cp ... LuceneBench DOCS.tsv QUERIES.txt INDEX_DIR WARMUP K PASSES
// The first WARMUP queries are the warm-up, run PASSES times (the JIT compiles Lucene's hot
// loops only after many calls); the rest are timed once.
// DOCS.tsv: one "id<TAB>title text" line per passage; QUERIES.txt: one query per line.
// Prints one JSON object: build time, index bytes, per-query times and each query's top-K ids.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.stream.Stream;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.SerialMergeScheduler;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

public class LuceneBench {
  static Query parse(Analyzer analyzer, String text) throws IOException {
    // Each analyzed term once, as canon-reason's query does.
    LinkedHashSet<String> terms = new LinkedHashSet<>();
    try (TokenStream ts = analyzer.tokenStream("body", new StringReader(text))) {
      CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) terms.add(term.toString());
      ts.end();
    }
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    for (String t : terms) b.add(new TermQuery(new Term("body", t)), BooleanClause.Occur.SHOULD);
    return b.build();
  }

  public static void main(String[] args) throws Exception {
    Path docsFile = Paths.get(args[0]);
    List<String> queries = Files.readAllLines(Paths.get(args[1]), StandardCharsets.UTF_8);
    Path dir = Paths.get(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int k = Integer.parseInt(args[4]);
    int passes = Integer.parseInt(args[5]);
    List<String> ids = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(docsFile, StandardCharsets.UTF_8)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        int tab = line.indexOf('\t');
        ids.add(line.substring(0, tab));
        bodies.add(line.substring(tab + 1));
      }
    }
    Analyzer analyzer = new EnglishAnalyzer();
    BM25Similarity bm25 = new BM25Similarity(1.2f, 0.75f);
    long t0 = System.nanoTime();
    try (FSDirectory d = FSDirectory.open(dir)) {
      IndexWriterConfig config = new IndexWriterConfig(analyzer);
      config.setSimilarity(bm25);
      config.setRAMBufferSizeMB(256);
      config.setMergeScheduler(new SerialMergeScheduler());
      config.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
      try (IndexWriter w = new IndexWriter(d, config)) {
        for (int i = 0; i < ids.size(); i++) {
          Document doc = new Document();
          doc.add(new StringField("id", ids.get(i), Field.Store.YES));
          doc.add(new TextField("body", bodies.get(i), Field.Store.NO));
          w.addDocument(doc);
        }
        w.forceMerge(1);
        w.commit();
      }
    }
    double buildSeconds = (System.nanoTime() - t0) / 1e9;
    bodies.clear();
    long indexBytes = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) indexBytes += Files.size(p);
    }
    StringBuilder out = new StringBuilder();
    out.append("{\"lucene_version\":\"").append(org.apache.lucene.util.Version.LATEST).append("\"");
    out.append(",\"docs\":").append(ids.size());
    out.append(",\"build_seconds\":").append(buildSeconds);
    out.append(",\"index_bytes\":").append(indexBytes);
    try (FSDirectory d = FSDirectory.open(dir); DirectoryReader reader = DirectoryReader.open(d)) {
      IndexSearcher searcher = new IndexSearcher(reader);
      searcher.setSimilarity(bm25);
      for (int pass = 0; pass < passes; pass++)
        for (int i = 0; i < warmup && i < queries.size(); i++) searcher.search(parse(analyzer, queries.get(i)), k);
      int n = queries.size() - warmup;
      double[] ms = new double[Math.max(0, n)];
      TopDocs[] tops = new TopDocs[Math.max(0, n)];
      long q0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long t = System.nanoTime();
        // Analysis included, as canon-reason's query time includes its own; ids are read below, untimed.
        tops[i] = searcher.search(parse(analyzer, queries.get(warmup + i)), k);
        ms[i] = (System.nanoTime() - t) / 1e6;
      }
      double querySeconds = (System.nanoTime() - q0) / 1e9;
      out.append(",\"query_seconds\":").append(querySeconds);
      out.append(",\"samples_ms\":[");
      for (int i = 0; i < n; i++) out.append(i == 0 ? "" : ",").append(ms[i]);
      out.append("],\"top\":[");
      for (int i = 0; i < n; i++) {
        out.append(i == 0 ? "[" : ",[");
        ScoreDoc[] hits = tops[i].scoreDocs;
        for (int h = 0; h < hits.length; h++) {
          String id = searcher.doc(hits[h].doc).get("id");
          out.append(h == 0 ? "" : ",").append('"').append(id.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        out.append("]");
      }
      out.append("]}");
    }
    System.out.println(out);
  }
}
