using Switchyard.Core.Caching.Semantic;
using Xunit;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>How the hashed embedder reads a word: stems, contractions, synonyms and word roles.</summary>
public sealed class WordFormsTests
{
    private static string Stem(string word)
    {
        var buffer = new char[WordForms.MaxStemmed];
        return new string(buffer, 0, WordForms.Stem(word, buffer));
    }

    private static string Canonical(string word)
    {
        var buffer = new char[WordForms.MaxStemmed];
        return new string(buffer, 0, WordForms.Canonical(word, buffer));
    }

    [Theory]
    [InlineData("laptops", "laptop")]
    [InlineData("laptops", "laptop's")] // Normalise drops the apostrophe, so a possessive is a plural to the stemmer
    [InlineData("batteries", "battery")]
    [InlineData("matches", "match")]
    [InlineData("classes", "class")]
    [InlineData("making", "make")]
    [InlineData("changed", "change")]
    [InlineData("running", "run")]
    [InlineData("stopped", "stop")]
    [InlineData("values", "value")]
    [InlineData("quickly", "quick")]
    public void Inflected_forms_share_a_stem(string a, string b) => Assert.Equal(Stem(a), Stem(b.Replace("'", "", StringComparison.Ordinal)));

    [Theory]
    [InlineData("string")] // -ing with no vowel before it is part of the word
    [InlineData("status")]
    [InlineData("analysis")]
    [InlineData("bus")]
    [InlineData("c#")]
    [InlineData("node.js")]
    [InlineData("gpt-4o")]
    public void Short_words_code_tokens_and_false_suffixes_are_left_alone(string word) => Assert.Equal(word, Stem(word));

    [Theory]
    [InlineData("iron", "ice")]
    [InlineData("junior", "senior")]
    [InlineData("enable", "disable")]
    [InlineData("key", "value")]
    public void Different_words_stay_different(string a, string b) => Assert.NotEqual(Canonical(a), Canonical(b));

    [Fact]
    public void Contractions_are_spelled_out_and_negations_stay_negations()
    {
        Assert.Equal("what is", WordForms.Expand("whats"));
        Assert.Equal("do not", WordForms.Expand("dont"));
        Assert.Equal("can not", WordForms.Expand("cant"));
        Assert.Null(WordForms.Expand("what"));
        Assert.Null(WordForms.Expand("id")); // "Apple ID" is not "I would"
    }

    [Fact]
    public void Common_synonyms_and_number_words_fold_to_one_form()
    {
        Assert.Equal(Canonical("fix"), Canonical("repairing"));
        Assert.Equal(Canonical("start"), Canonical("begin"));
        Assert.Equal(Canonical("big"), Canonical("large"));
        Assert.Equal(Canonical("dictionary"), Canonical("dicts"));
        Assert.Equal("3", Canonical("three"));
    }

    [Fact]
    public void Question_framing_and_politeness_are_recognised_but_content_is_not()
    {
        Assert.True(WordForms.IsFunctionWord("how"));
        Assert.True(WordForms.IsFunctionWord("the"));
        Assert.True(WordForms.IsFiller("please"));
        Assert.True(WordForms.IsFiller("tell"));
        Assert.False(WordForms.IsFunctionWord("not"));
        Assert.False(WordForms.IsFiller("password"));
    }
}
