using System.Text.Json.Nodes;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Translation;

/// <summary>One translated call: the OpenAI chat request a dialect sends to its provider, with its context.</summary>
public sealed class ChatCall
{
    public required GatewayRequest Request { get; init; }

    public required ResolvedTarget Target { get; init; }

    /// <summary>The OpenAI chat completion request (after override_params). Dialects must not mutate it: retries reuse it.</summary>
    public required JsonObject Body { get; init; }

    public bool Stream => Body["stream"] is JsonValue v && v.TryGetValue<bool>(out var s) && s;

    /// <summary>The model the client (or override_params) asked for.</summary>
    public string? Model => Body["model"] is JsonValue v && v.TryGetValue<string>(out var m) ? m : null;

    /// <summary>Unix seconds when the call was planned, on the engine's clock, for <c>created</c>.</summary>
    public required long Created { get; init; }

    /// <summary>Portkey's header for strict OpenAI compliance; only the value <c>false</c> turns it off.</summary>
    public const string StrictComplianceHeader = "x-portkey-strict-open-ai-compliance";

    /// <summary>
    /// Strict OpenAI compliance (default on). Off when the client sends <c>x-portkey-strict-open-ai-compliance: false</c>
    /// or the target's config says <c>strict_open_ai_compliance: false</c> (either one suffices, as in Portkey). Off, the chat
    /// answer carries the provider's own finish reason and <c>content_blocks</c> (SEAM.md).
    /// </summary>
    public bool StrictOpenAiCompliance => _strict ??= IsStrict(Request, Target?.Settings);

    /// <summary>Strict OpenAI compliance for a request at a target (see <see cref="StrictOpenAiCompliance"/>); the cache key and guardrails need it too.</summary>
    public static bool IsStrict(GatewayRequest request, Configs.TargetSettings? settings) => !(
        string.Equals(request.Headers.Get(StrictComplianceHeader)?.Trim(), "false", StringComparison.OrdinalIgnoreCase)
        || settings?.StrictOpenAiCompliance == false);

    private bool? _strict;

    /// <summary>The provider's slug (<c>anthropic</c>, <c>vertex-ai</c> …), as error messages name it.</summary>
    public string Provider => Target?.Provider.Slug ?? "upstream";

    /// <summary>A provider field by any of its names (config names such as <c>resource_name</c> and header-mode names such as <c>azure_resource_name</c>).</summary>
    public string? Field(params ReadOnlySpan<string> names) => Target.Field(names);
}
