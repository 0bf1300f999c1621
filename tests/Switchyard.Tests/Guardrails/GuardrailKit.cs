using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Requests;
using Switchyard.Core.Security;
using Xunit;

namespace Switchyard.Tests.Guardrails;

/// <summary>Builds services, contexts and compiled checks for the guardrail tests.</summary>
internal static class GuardrailKit
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });

    public static GuardrailServices Services(CustomHostValidator? hosts = null, TimeProvider? time = null) =>
        new(Http, hosts ?? new CustomHostValidator(null), time);

    /// <summary>The snake-cased top-level fields of a config node, as the config compiler hands them over.</summary>
    public static Dictionary<string, JsonElement> Fields(string json)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var p in JsonDocument.Parse(json).RootElement.EnumerateObject()) fields[ConfigCompiler.SnakeKey(p.Name)] = p.Value.Clone();
        return fields;
    }

    public static (IReadOnlyList<HookDefinition>? Before, IReadOnlyList<HookDefinition>? After) Compile(string configJson, List<ConfigError> errors,
        GuardrailServices? services = null, string path = "") =>
        new GuardrailCompiler(services ?? Services()).CompileNode(Fields(configJson), path, errors);

    public static (IReadOnlyList<HookDefinition>? Before, IReadOnlyList<HookDefinition>? After) CompileOk(string configJson, GuardrailServices? services = null)
    {
        var errors = new List<ConfigError>();
        var result = Compile(configJson, errors, services);
        Assert.True(errors.Count == 0, "unexpected config errors: " + string.Join("; ", errors));
        return result;
    }

    public static List<ConfigError> Errors(string configJson, GuardrailServices? services = null)
    {
        var errors = new List<ConfigError>();
        Compile(configJson, errors, services);
        return errors;
    }

    /// <summary>Compiles one check through the full hook form and returns its definition.</summary>
    public static CheckDefinition Definition(string checkId, string parametersJson, HookEvent ev = HookEvent.BeforeRequest, GuardrailServices? services = null)
    {
        var key = ev == HookEvent.BeforeRequest ? "before_request_hooks" : "after_request_hooks";
        var config = $$"""{"{{key}}":[{"type":"guardrail","id":"h","checks":[{"id":"{{checkId}}","parameters":{{parametersJson}}}]}]}""";
        var (before, after) = CompileOk(config, services);
        return (ev == HookEvent.BeforeRequest ? before : after)![0].Checks[0];
    }

    public static IGuardrailCheck Check(string checkId, string parametersJson, HookEvent ev = HookEvent.BeforeRequest, GuardrailServices? services = null) =>
        Definition(checkId, parametersJson, ev, services).Check;

    public static Task<CheckOutcome> RunAsync(this IGuardrailCheck check, HookContext ctx, HookEvent ev) =>
        check.RunAsync(ctx, ev, CancellationToken.None).AsTask();

    public static HookContext Context(string requestJson, string requestType = "chatComplete", IRequestHeaders? headers = null,
        string? metadataJson = null, string? provider = "openai") =>
        new((JsonObject)JsonNode.Parse(requestJson)!, requestType, headers ?? new HeaderBag())
        {
            Metadata = metadataJson is null ? new JsonObject() : (JsonObject)JsonNode.Parse(metadataJson)!,
            Provider = provider,
        };

    /// <summary>A chat request whose last (user) message is <paramref name="text"/>.</summary>
    public static HookContext Chat(string text, string model = "gpt-4o", string? metadataJson = null, IRequestHeaders? headers = null)
    {
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "You are terse." },
                new JsonObject { ["role"] = "user", ["content"] = text }),
        };
        return new HookContext(request, "chatComplete", headers ?? new HeaderBag())
        {
            Metadata = metadataJson is null ? new JsonObject() : (JsonObject)JsonNode.Parse(metadataJson)!,
            Provider = "openai",
        };
    }

    /// <summary>A chat exchange whose answer (choices[0].message.content) is <paramref name="answer"/>, status 200.</summary>
    public static HookContext Answer(string answer, string question = "Hello?")
    {
        var ctx = Chat(question);
        ctx.SetResponse(ChatCompletion(answer), 200);
        return ctx;
    }

    public static JsonObject ChatCompletion(string? content) => new()
    {
        ["id"] = "chatcmpl-1",
        ["object"] = "chat.completion",
        ["model"] = "gpt-4o",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
            ["finish_reason"] = "stop",
        }),
    };

    public static string Str(JsonNode? node) => node!.GetValue<string>();

    public static bool Bool(JsonNode? node) => node!.GetValue<bool>();

    public static string LastUserText(HookContext ctx) => Str(((JsonArray)ctx.RequestJson["messages"]!)[^1]!["content"]);
}
