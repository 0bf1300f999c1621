using System.Diagnostics;
using System.Numerics.Tensors;
using Switchyard.Core.Caching.Semantic;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>The offline hashed embedder: unit vectors, stable across processes, folding of case, width and punctuation, no per-call allocation.</summary>
public sealed class HashedNgramEmbedderTests(ITestOutputHelper output)
{
    private const string Prompt200 =
        "I'm trying to deploy my ASP.NET Core app to Kubernetes with Helm, but the pod keeps restarting with exit code 139. " +
        "The logs show nothing useful. How do I find out what's crashing and fix it?";

    [Fact]
    public async Task Vectors_are_unit_length_deterministic_and_the_same_from_every_instance()
    {
        var first = await new HashedNgramEmbedder().EmbedAsync("How do I reset my password?", CancellationToken.None);
        var second = await new HashedNgramEmbedder().EmbedAsync("How do I reset my password?", CancellationToken.None);
        Assert.Equal(HashedNgramEmbedder.DefaultDimensions, first.Length);
        Assert.Equal(1.0, TensorPrimitives.Norm(first), 4);
        Assert.Equal(first, second);
        Assert.Equal("hashed-ngram-v2/1024", new HashedNgramEmbedder().Name);
        Assert.Equal(256, new HashedNgramEmbedder(256).Embed("hello world").Length);
    }

    [Fact]
    public void Feature_hashes_are_fixed_values_not_per_process_string_hashes()
    {
        // Pinned: replicas share vectors through Redis, so a hash that changed between processes or versions
        // would silently turn every shared entry into a miss.
        // The value was checked against an independent FNV-1a + murmur-finaliser implementation.
        Assert.Equal(0x0AE01DEF1841E0CEUL, HashedNgramEmbedder.Hash("password", 0));
        var vector = new HashedNgramEmbedder().Embed("reset password");
        var strongest = TensorPrimitives.IndexOfMaxMagnitude(vector);
        Assert.Equal(100, strongest); // a regression pin: any change to features or weights must be a deliberate new Name
    }

    [Fact]
    public void Case_width_ligatures_spacing_and_punctuation_do_not_change_the_vector()
    {
        var embedder = new HashedNgramEmbedder();
        var plain = embedder.Embed("how do i find the file");
        foreach (var variant in new[] { "HOW do I   find the file?!", "How do I ﬁnd the file", "Ｈｏｗ do I find\u00A0the\tfile", "how, do i find... the file" })
        {
            Assert.Equal(1.0, TensorPrimitives.Dot(plain, embedder.Embed(variant)), 4);
        }

        Assert.True(TensorPrimitives.Dot(plain, embedder.Embed("how do i find the folder")) < 0.9);
    }

    [Fact]
    public void Apostrophes_join_and_code_tokens_stay_whole()
    {
        static string Words(string text)
        {
            var buffer = new char[(text.Length * 3) + 2];
            return new string(buffer, 0, HashedNgramEmbedder.Normalise(text, buffer));
        }

        Assert.Equal(" whats the best c# or c++ lib for node.js ", Words("What's the best C# or C++ lib for Node.js?"));
        Assert.Equal(" compare gpt-4o and gpt-4.1 in a 500-word two factor note ", Words("Compare gpt-4o and gpt-4.1 in a 500-word two-factor note"));
        Assert.Equal(" mail bob@example.com see example.com/docs ", Words("Mail bob@example.com, see example.com/docs."));
        Assert.Equal("", Words("?! ... --"));
    }

    [Theory]
    [InlineData("how can i make my laptop's battery last longer?", "How can I make my laptop batteries last longer?")]
    [InlineData("What's the capital of France?", "What is the capital of France?")]
    [InlineData("I don't understand closures in JavaScript", "I do not understand closures in JavaScript")]
    [InlineData("Please write unit tests for this function.", "Write unit tests for this function.")]
    [InlineData("Can you tell me how to boil an egg?", "How do I boil an egg?")]
    [InlineData("How do I repair my bike chain?", "How can I fix my bike chain?")]
    public void Contractions_possessives_plurals_fillers_and_synonyms_do_not_matter(string a, string b)
    {
        var embedder = new HashedNgramEmbedder();
        var similarity = TensorPrimitives.Dot(embedder.Embed(a), embedder.Embed(b));
        Assert.True(similarity >= 0.9, $"{similarity:0.000}");
    }

    [Fact]
    public void Content_words_keep_their_order_so_swapped_roles_fall_below_the_threshold()
    {
        var embedder = new HashedNgramEmbedder();
        var similarity = TensorPrimitives.Dot(embedder.Embed("Did Edison work for Tesla?"), embedder.Embed("Did Tesla work for Edison?"));
        Assert.True(similarity < embedder.DefaultThreshold, $"{similarity:0.000}");
    }

    [Fact]
    public void Text_without_words_embeds_to_zeros()
    {
        Assert.All(new HashedNgramEmbedder().Embed("?!… --"), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Embedding_into_a_caller_buffer_allocates_nothing()
    {
        var embedder = new HashedNgramEmbedder();
        var destination = new float[embedder.Dimensions];
        embedder.Embed(Prompt200, destination);
        // Several rounds, the least kept: the runtime may allocate on this thread once in a while (tiered re-compilation),
        // while an allocation in Embed itself would show in every round.
        var least = long.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 100; i++)
            {
                embedder.Embed(Prompt200, destination);
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, least);

        // Measured for the closing note, not asserted: speed belongs to the benchmark.
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < 2000; i++)
        {
            embedder.Embed(Prompt200, destination);
        }

        output.WriteLine($"{Prompt200.Length}-char prompt: {watch.Elapsed.TotalMicroseconds / 2000:0.0} µs per embedding");
    }
}
