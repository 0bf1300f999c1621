using System.Text.Json.Nodes;

namespace Switchyard.Core.Guardrails;

/// <summary>One compiled hook (a guardrail or mutator with its checks); immutable and shared by every request using the config.</summary>
public sealed class HookDefinition
{
    public required string Id { get; init; }

    public required HookKind Kind { get; init; }

    /// <summary>A failed verdict denies the request (status 446).</summary>
    public bool Deny { get; init; }

    /// <summary>Runs in the background after the response instead of inline.</summary>
    public bool Async { get; init; }

    /// <summary>Guardrail checks run one after another, each seeing the previous one's transform.</summary>
    public bool Sequential { get; init; }

    /// <summary>The configured <c>on_fail</c> object (<c>{feedback:{value, weight, metadata}}</c>), or null.</summary>
    public JsonObject? OnFail { get; init; }

    /// <summary>The configured <c>on_success</c> object, or null.</summary>
    public JsonObject? OnSuccess { get; init; }

    public required IReadOnlyList<CheckDefinition> Checks { get; init; }

    /// <summary>The hook type as Portkey writes it in results (<c>guardrail</c> / <c>mutator</c>).</summary>
    public string TypeName => Kind == HookKind.Mutator ? "mutator" : "guardrail";
}
