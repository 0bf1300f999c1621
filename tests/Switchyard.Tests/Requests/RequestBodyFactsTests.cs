using System.Text;
using Switchyard.Core.Requests;
using Xunit;

// Not Switchyard.Tests.Requests: that namespace would hide the Infrastructure helper class named Requests from every other test.
namespace Switchyard.Tests.IncomingRequests;

/// <summary>What the one-pass body reader reports for bodies a client can send, valid or not.</summary>
public sealed class RequestBodyFactsTests
{
    private static byte[] Bytes(string before, byte[] middle, string after = "") =>
        [.. Encoding.UTF8.GetBytes(before), .. middle, .. Encoding.UTF8.GetBytes(after)];

    public static TheoryData<byte[], int, string> InvalidUtf8 => new()
    {
        // 0xC3 announces a two-byte sequence; '(' is not a continuation byte.
        { Bytes("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"", [0xC3, 0x28], "\"}]}"), 51, "invalid byte 0xC3" },
        // 0xFF never occurs in UTF-8.
        { Bytes("{\"model\":\"", [0xFF], "\"}"), 10, "invalid byte 0xFF" },
        // The body stops after the first two of the three bytes of "€".
        { Bytes("{\"model\":\"m\",\"x\":\"", [0xE2, 0x82]), 18, "ends inside a multi-byte sequence" },
        // An overlong encoding of '/' and an encoded surrogate are invalid too.
        { Bytes("{\"a\":\"", [0xC0, 0xAF], "\"}"), 6, "invalid byte 0xC0" },
        { Bytes("{\"a\":\"", [0xED, 0xA0, 0x80], "\"}"), 6, "invalid byte 0xED" },
        // Outside any string.
        { Bytes("{", [0x80], "}"), 1, "invalid byte 0x80" },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Invalid_utf8_is_reported_with_its_byte_offset(byte[] body, int offset, string what)
    {
        var facts = RequestBodyFacts.Read(body);
        Assert.False(facts.IsValidJson);
        Assert.False(facts.IsObject);
        Assert.NotNull(facts.Error);
        Assert.Contains("not valid UTF-8", facts.Error);
        Assert.Contains(what, facts.Error);
        Assert.Contains($"byte offset {offset}", facts.Error);
    }

    [Fact]
    public void Valid_multibyte_text_is_read_as_before()
    {
        var facts = RequestBodyFacts.Read(Encoding.UTF8.GetBytes("{\"model\":\"modèle-€-𝄞\",\"stream\":true,\"messages\":[{\"content\":\"日本語\"}]}"));
        Assert.Null(facts.Error);
        Assert.True(facts.IsValidJson);
        Assert.Equal("modèle-€-𝄞", facts.Model);
        Assert.True(facts.Stream);
    }

    [Fact]
    public void An_escaped_lone_surrogate_in_model_is_a_body_error_not_an_exception()
    {
        var facts = RequestBodyFacts.Read("{\"model\":\"\\uD800\"}"u8);
        Assert.Contains("unpaired UTF-16 surrogate escape (\\uD800)", facts.Error);
        Assert.False(facts.IsValidJson);
    }

    [Theory]
    [InlineData("""{"model":"a","stream":true,"model":"b"}""", "\"model\" occurs twice", 27)]
    [InlineData("""{"messages":[{"role":"user","content":"x","role":"assistant"}]}""", "\"role\" occurs twice", 42)]
    [InlineData("""{"model":"a","\u006dodel":"b"}""", "\"model\" occurs twice", 13)]
    [InlineData("""{"a":{"b":{"c":1},"b":2}}""", "\"b\" occurs twice", 18)]
    public void A_key_given_twice_in_one_object_is_refused_with_its_offset(string body, string message, int offset)
    {
        var facts = RequestBodyFacts.Read(Encoding.UTF8.GetBytes(body));
        Assert.False(facts.IsValidJson);
        Assert.Contains(message, facts.Error);
        Assert.Contains($"byte offset {offset}", facts.Error);
    }

    [Fact]
    public void The_same_key_in_different_objects_is_fine_however_many_keys_an_object_has()
    {
        Assert.Null(RequestBodyFacts.Read("""{"a":{"a":1},"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y"}],"b":{"a":{"a":[{"a":1}]}},"c":1}"""u8).Error);
        var wide = "{" + string.Join(",", Enumerable.Range(0, 500).Select(i => $"\"k{i}\":{{\"k{i}\":1}}")) + "}";
        Assert.Null(RequestBodyFacts.Read(Encoding.UTF8.GetBytes(wide)).Error);
        var wideWithDuplicate = wide[..^1] + ",\"k7\":2}";
        Assert.Contains("\"k7\" occurs twice", RequestBodyFacts.Read(Encoding.UTF8.GetBytes(wideWithDuplicate)).Error);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"content":"\uD800"}]}""", "\\uD800")]
    [InlineData("""{"model":"m","x":"\uDC00 low first"}""", "\\uDC00")]
    [InlineData("""{"model":"m","x":"\uD83D\u0041"}""", "\\uD83D")]
    [InlineData("""{"model":"m","x":"end \uD83D"}""", "\\uD83D")]
    [InlineData("""{"model":"m","\uD800":1}""", "\\uD800")]
    public void An_unpaired_surrogate_escape_anywhere_is_refused(string body, string escape)
    {
        var facts = RequestBodyFacts.Read(Encoding.UTF8.GetBytes(body));
        Assert.Contains($"unpaired UTF-16 surrogate escape ({escape})", facts.Error);
    }

    [Theory]
    [InlineData("""{"model":"m","x":"\uD83D\uDE00 paired"}""")]
    [InlineData("""{"model":"m","x":"\\uD800 is an escaped backslash, then text"}""")]
    [InlineData("""{"model":"m","x":"tab\tnew\nline \"quoted\" \u00e9"}""")]
    public void Other_escapes_are_fine(string body) => Assert.Null(RequestBodyFacts.Read(Encoding.UTF8.GetBytes(body)).Error);

    [Theory]
    [InlineData("", "empty")]
    [InlineData("[1]", "must be a JSON object")]
    [InlineData("\"s\"", "must be a JSON object")]
    [InlineData("{\"model\":\"m\"} x", "not valid JSON")]
    [InlineData("{\"model\":\"m\"", "not valid JSON")]
    public void Other_bad_bodies_keep_their_messages(string body, string message)
    {
        Assert.Contains(message, RequestBodyFacts.Read(Encoding.UTF8.GetBytes(body)).Error);
    }

    [Fact]
    public void Nesting_past_the_reader_limit_is_a_body_error()
    {
        var deep = "{\"model\":\"m\",\"messages\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var facts = RequestBodyFacts.Read(Encoding.UTF8.GetBytes(deep));
        Assert.Contains("not valid JSON", facts.Error);
    }
}
