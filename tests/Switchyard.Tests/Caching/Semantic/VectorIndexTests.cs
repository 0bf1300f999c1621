using System.Buffers.Binary;
using Switchyard.Core.Caching.Semantic;
using Xunit;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>The in-memory semantic index: best match above the threshold, guard veto, expiry, buckets, bounded size, concurrency, binary entries.</summary>
public sealed class VectorIndexTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly HashedNgramEmbedder s_embedder = new(256);

    private static VectorEntry Entry(string text, string key, TimeSpan? ttl = null) =>
        new(s_embedder.Embed(text), text, key, s_now + (ttl ?? TimeSpan.FromHours(1)));

    private static VectorIndex NewIndex(int max = 100, Func<string, string, bool>? guard = null) =>
        new(max, guard, new FixedTime(s_now));

    [Fact]
    public void The_most_similar_entry_at_or_above_the_threshold_is_returned()
    {
        var index = NewIndex();
        index.Add("b", Entry("how do i reset my password", "k-reset"));
        index.Add("b", Entry("how do i reset my router", "k-router"));
        var query = s_embedder.Embed("how do i reset my password please");
        var match = index.FindBest("b", query, 0.5, "how do i reset my password please", s_now)!;
        Assert.Equal("k-reset", match.Entry.EntryKey);
        Assert.InRange(match.Similarity, 0.5, 1.0);
        Assert.Null(index.FindBest("b", query, match.Similarity + 0.001, "how do i reset my password please", s_now));
        Assert.Null(index.FindBest("other-bucket", query, 0.1, "how do i reset my password please", s_now));
    }

    [Fact]
    public void A_guard_veto_falls_through_to_the_next_best_candidate()
    {
        var index = NewIndex(guard: (query, cached) => !cached.Contains("80", StringComparison.Ordinal));
        index.Add("b", Entry("what is 15% of 80", "k-80"));
        index.Add("b", Entry("what is 15% of 90", "k-90"));
        var match = index.FindBest("b", s_embedder.Embed("what is 15% of 80"), 0.3, "what is 15% of 80", s_now);
        Assert.Equal("k-90", match!.Entry.EntryKey);

        var defaultGuard = NewIndex();
        defaultGuard.Add("b", Entry("what is 15% of 90", "k-90"));
        Assert.Null(defaultGuard.FindBest("b", s_embedder.Embed("what is 15% of 80"), 0.3, "what is 15% of 80", s_now));
    }

    [Fact]
    public void Expired_entries_never_match_and_are_dropped_on_the_next_write()
    {
        var index = NewIndex();
        index.Add("b", Entry("how do i reset my password", "k1", TimeSpan.FromMinutes(1)));
        var query = s_embedder.Embed("how do i reset my password");
        Assert.NotNull(index.FindBest("b", query, 0.9, "how do i reset my password", s_now));
        Assert.Null(index.FindBest("b", query, 0.9, "how do i reset my password", s_now.AddMinutes(1)));
        Assert.Equal(1, index.Count);

        var later = new VectorIndex(100, time: new FixedTime(s_now.AddMinutes(5)));
        later.Add("b", Entry("first", "k1", TimeSpan.FromMinutes(1)));
        Assert.Equal(0, later.Count); // already expired on arrival: counted as appended, not held
        Assert.Equal(1, later.CountIn("b"));
    }

    [Fact]
    public void Past_the_bound_the_oldest_entry_overall_is_evicted_and_count_in_keeps_the_append_position()
    {
        var index = NewIndex(max: 3);
        index.Add("x", Entry("alpha one", "x1"));
        index.Add("y", Entry("beta two", "y1"));
        index.Add("x", Entry("gamma three", "x2"));
        index.Add("y", Entry("delta four", "y2"));
        Assert.Equal(3, index.Count);
        Assert.Null(index.FindBest("x", s_embedder.Embed("alpha one"), 0.99, "alpha one", s_now));
        Assert.NotNull(index.FindBest("x", s_embedder.Embed("gamma three"), 0.99, "gamma three", s_now));
        Assert.Equal(2, index.CountIn("x"));
        Assert.Equal(2, index.CountIn("y"));
        Assert.Equal(0, index.CountIn("z"));

        Assert.Equal(1, index.Remove("y", "y2"));
        Assert.Equal(2, index.Count);
        Assert.Null(index.FindBest("y", s_embedder.Embed("delta four"), 0.99, "delta four", s_now));
    }

    [Fact]
    public async Task Concurrent_readers_and_writers_keep_the_index_consistent()
    {
        var index = NewIndex(max: 500);
        var texts = Enumerable.Range(0, 40).Select(i => $"question number {i} about topic {i % 7}").ToArray();
        var vectors = texts.Select(t => s_embedder.Embed(t)).ToArray();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                index.Add("bucket-" + (i % 5), new VectorEntry(vectors[i % texts.Length], texts[i % texts.Length], $"w{w}-{i}", s_now.AddHours(1)));
            }
        }));
        var found = 0;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                if (index.FindBest("bucket-" + (i % 5), vectors[i % texts.Length], 0.99, texts[i % texts.Length], s_now) is not null)
                {
                    Interlocked.Increment(ref found);
                }
            }
        }));
        await Task.WhenAll(writers.Concat(readers));
        Assert.Equal(500, index.Count);
        Assert.Equal(1200, Enumerable.Range(0, 5).Sum(b => index.CountIn("bucket-" + b)));
        Assert.NotNull(index.FindBest("bucket-0", vectors[0], 0.99, texts[0], s_now));
    }

    [Fact]
    public void Entries_round_trip_through_compact_little_endian_bytes()
    {
        var entry = new VectorEntry([1.5f, -0.25f, 3f], "héllo wörld", "cache:abc", DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_123));
        var bytes = entry.ToBytes();
        Assert.Equal(1 + 8 + 4 + 12 + 4 + 13 + 4 + 9, bytes.Length);
        Assert.Equal(1, bytes[0]);
        Assert.Equal(1_767_225_600_123, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(1)));
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(9)));
        Assert.Equal(-0.25f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(17)));

        var back = VectorEntry.FromBytes(bytes);
        Assert.Equal(entry.Vector, back.Vector);
        Assert.Equal(entry.Text, back.Text);
        Assert.Equal(entry.EntryKey, back.EntryKey);
        Assert.Equal(entry.ExpiresAt, back.ExpiresAt);

        Assert.Throws<FormatException>(() => VectorEntry.FromBytes(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<FormatException>(() => VectorEntry.FromBytes([.. bytes, 0]));
        var wrongVersion = bytes.ToArray();
        wrongVersion[0] = 9;
        Assert.Throws<FormatException>(() => VectorEntry.FromBytes(wrongVersion));
        var hugeCount = bytes.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(hugeCount.AsSpan(9), int.MaxValue);
        Assert.Throws<FormatException>(() => VectorEntry.FromBytes(hugeCount));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
