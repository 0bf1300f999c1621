// Reads a /metrics scrape (Prometheus text format) from stdin and prints the metric families as JSON, as parsed by
// parse-prometheus-text-format: [{ name, help, type, metrics: [{ labels, value } | { labels, buckets, count, sum }] }].
// The gateway's tests assert on this JSON, so what they check is what a Prometheus text-format parser reads.
//
// parse-prometheus-text-format 1.1.1 reads counters and gauges with labels, but folds every histogram into one sample
// without labels (it only handles unlabelled histograms). So each histogram family is parsed a second time with its
// TYPE line taken away: the parser then returns its _bucket, _sum and _count lines as plain samples with their labels,
// and they are put back together here, one histogram per label set.
import parse from 'parse-prometheus-text-format';

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const text = Buffer.concat(chunks).toString('utf8');
if (text.length === 0) {
  console.error('parse-metrics: empty input');
  process.exit(2);
}

const families = parse(text);
const histograms = new Set(families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
if (histograms.size > 0) {
  const owner = (sample) => [...histograms].find((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`].includes(sample));
  const lines = text.split('\n').filter((line) => {
    if (line.startsWith('#')) {
      return false;
    }
    const name = line.split(/[{ ]/, 1)[0];
    return owner(name) !== undefined;
  });
  const bySet = new Map(); // histogram name -> label-set key -> { labels, buckets, count, sum }
  for (const part of parse(lines.join('\n') + '\n')) {
    const histogram = owner(part.name);
    const kind = part.name.substring(histogram.length + 1);
    if (!bySet.has(histogram)) {
      bySet.set(histogram, new Map());
    }
    const sets = bySet.get(histogram);
    for (const sample of part.metrics) {
      const labels = { ...(sample.labels ?? {}) };
      const le = labels.le;
      delete labels.le;
      const key = JSON.stringify(Object.entries(labels).sort());
      if (!sets.has(key)) {
        sets.set(key, { labels, buckets: {} });
      }
      const entry = sets.get(key);
      if (kind === 'bucket') {
        entry.buckets[le] = sample.value;
      } else {
        entry[kind] = sample.value;
      }
    }
  }
  for (const family of families) {
    if (histograms.has(family.name)) {
      family.metrics = [...(bySet.get(family.name)?.values() ?? [])];
    }
  }
}
process.stdout.write(JSON.stringify(families));
