import { test } from "node:test";
import assert from "node:assert/strict";
import { sortHistogramBuckets } from "./metrics.ts";

test("sortHistogramBuckets: each series' buckets in ascending le order, series and other lines kept in place", () => {
  const text = [
    "# TYPE h histogram",
    'h_bucket{status="delivered",le="1"} 2',
    'h_bucket{status="delivered",le="10"} 3',
    'h_bucket{status="delivered",le="0.1"} 0',
    'h_bucket{status="delivered",le="0.5"} 1',
    'h_bucket{status="delivered",le="+Inf"} 3',
    'h_sum{status="delivered"} 4.5',
    'h_bucket{status="expired",le="2"} 1',
    'h_bucket{status="expired",le="0.5"} 0',
    'h_bucket{status="expired",le="+Inf"} 1',
    'g_bucket{le="5"} 1',
    'g_bucket{le="0.25"} 0',
    "",
  ].join("\n");
  assert.equal(
    sortHistogramBuckets(text),
    [
      "# TYPE h histogram",
      'h_bucket{status="delivered",le="0.1"} 0',
      'h_bucket{status="delivered",le="0.5"} 1',
      'h_bucket{status="delivered",le="1"} 2',
      'h_bucket{status="delivered",le="10"} 3',
      'h_bucket{status="delivered",le="+Inf"} 3',
      'h_sum{status="delivered"} 4.5',
      'h_bucket{status="expired",le="0.5"} 0',
      'h_bucket{status="expired",le="2"} 1',
      'h_bucket{status="expired",le="+Inf"} 1',
      'g_bucket{le="0.25"} 0',
      'g_bucket{le="5"} 1',
      "",
    ].join("\n"),
  );
});
