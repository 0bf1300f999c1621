using System.Collections.Concurrent;
using System.Text.Json;
using Switchyard.Core.Configs;
using Switchyard.Core.Errors;
using Switchyard.Core.Guardrails;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>
/// Reads <c>x-portkey-default-input-guardrails</c> / <c>x-portkey-default-output-guardrails</c> (JSON arrays of shorthand
/// guardrails) into the context; every leaf runs them after its own hooks. A malformed value is a 400 naming the header.
/// </summary>
public sealed class DefaultGuardrailsStep(GuardrailCompiler compiler) : IRequestStep
{
    public const string InputHeader = "x-portkey-default-input-guardrails";
    public const string OutputHeader = "x-portkey-default-output-guardrails";
    private const int CacheLimit = 512;

    // Clients send the same value on every call: compile each distinct value once (as inline configs are).
    private readonly ConcurrentDictionary<(string Header, string Value), (IReadOnlyList<HookDefinition>? Hooks, string? Error)> _compiled = new();

    private static readonly (string Header, HookEvent Event)[] Headers = [(InputHeader, HookEvent.BeforeRequest), (OutputHeader, HookEvent.AfterRequest)];

    public ValueTask<GatewayError?> RunAsync(RequestContext context, CancellationToken ct)
    {
        var headers = context.Request!.Headers;
        foreach (var (header, ev) in Headers)
        {
            if (headers.Get(header) is not { } raw || string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }
            var (hooks, error) = Compile(header, raw.Trim(), ev);
            if (error is not null)
            {
                return ValueTask.FromResult<GatewayError?>(GatewayError.Invalid(error));
            }
            if (ev == HookEvent.BeforeRequest)
            {
                context.DefaultBeforeHooks = hooks!;
            }
            else
            {
                context.DefaultAfterHooks = hooks!;
            }
        }
        return ValueTask.FromResult<GatewayError?>(null);
    }

    private (IReadOnlyList<HookDefinition>? Hooks, string? Error) Compile(string header, string value, HookEvent ev)
    {
        if (_compiled.TryGetValue((header, value), out var cached))
        {
            return cached;
        }
        (IReadOnlyList<HookDefinition>? Hooks, string? Error) result;
        try
        {
            using var doc = JsonDocument.Parse(value);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                result = (null, $"{header} must be a JSON array of guardrails");
            }
            else
            {
                var errors = new List<ConfigError>();
                var hooks = compiler.CompileDefaultShorthand(doc.RootElement, ev, header, errors);
                result = hooks is null || errors.Count > 0
                    ? (null, $"Invalid {header}: {string.Join("; ", errors.Select(e => e.ToString()))}")
                    : (hooks, null);
            }
        }
        catch (JsonException)
        {
            result = (null, $"{header} is not valid JSON");
        }
        if (_compiled.Count >= CacheLimit)
        {
            _compiled.Clear();
        }
        _compiled[(header, value)] = result;
        return result;
    }
}
