using Switchyard.Core.Guardrails;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class JsonChecksTests
{
    private const HookEvent After = HookEvent.AfterRequest;

    private const string PersonSchema = """
        {"schema":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name","age"]}}
        """;

    [Fact]
    public async Task JsonSchema_validates_fenced_json()
    {
        var check = Check("default.jsonSchema", PersonSchema, After);
        var outcome = await check.RunAsync(Answer("Sure:\n```json\n{\"name\":\"Ann\",\"age\":31}\n```"), After);
        Assert.True(outcome.Verdict, outcome.Data?.ToJsonString() + outcome.Error?.Message);
        Assert.Equal("Ann", Str(outcome.Data!["matchedJson"]!["name"]));
    }

    [Fact]
    public async Task JsonSchema_reports_validation_errors_and_inverts_with_not()
    {
        var check = Check("default.jsonSchema", PersonSchema, After);
        var outcome = await check.RunAsync(Answer("{\"name\":\"Ann\",\"age\":-1}"), After);
        Assert.False(outcome.Verdict);
        var errors = outcome.Data!["validationErrors"]!.AsArray();
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => Str(e!["path"]) == "/age");

        var inverted = Check("default.jsonSchema", """
            {"not":true,"schema":{"type":"object","required":["name","age"]}}
            """, After);
        Assert.True((await inverted.RunAsync(Answer("{\"name\":\"Ann\"}"), After)).Verdict);
    }

    [Fact]
    public async Task JsonSchema_picks_any_valid_candidate_and_fails_without_json()
    {
        var check = Check("default.jsonSchema", PersonSchema, After);
        Assert.True((await check.RunAsync(Answer("first {\"x\":1} then {\"name\":\"B\",\"age\":2}"), After)).Verdict);
        var none = await check.RunAsync(Answer("no json here"), After);
        Assert.False(none.Verdict);
        Assert.Null(none.Error);
        Assert.Equal("No valid JSON found in the response.", Str(none.Data!["explanation"]));
    }

    [Fact]
    public async Task JsonKeys_operators_best_match_and_not()
    {
        var all = Check("default.jsonKeys", """{"keys":["a","b"],"operator":"all"}""", After);
        Assert.True((await all.RunAsync(Answer("x {\"a\":1} y {\"a\":1,\"b\":2}"), After)).Verdict);
        var partial = await all.RunAsync(Answer("{\"a\":1,\"c\":3}"), After);
        Assert.False(partial.Verdict);
        Assert.Equal("b", Str(partial.Data!["missingKeys"]![0]));
        var none = Check("default.jsonKeys", """{"keys":["password"],"operator":"none"}""", After);
        Assert.True((await none.RunAsync(Answer("{\"user\":\"x\"}"), After)).Verdict);
        Assert.False((await none.RunAsync(Answer("{\"password\":\"x\"}"), After)).Verdict);
        var anyNot = Check("default.jsonKeys", """{"keys":["a"],"operator":"any","not":true}""", After);
        Assert.False((await anyNot.RunAsync(Answer("{\"a\":1}"), After)).Verdict);
        Assert.True((await anyNot.RunAsync(Answer("{\"b\":1}"), After)).Verdict);
        Assert.False((await all.RunAsync(Answer("plain text"), After)).Verdict);
        Assert.NotNull((await all.RunAsync(Answer(""), After)).Error);
    }
}
