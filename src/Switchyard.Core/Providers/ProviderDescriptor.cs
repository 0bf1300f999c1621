using Switchyard.Core.Requests;

namespace Switchyard.Core.Providers;

/// <summary>A provider described as data: where it lives, how it authenticates and what it does not accept.</summary>
public sealed record ProviderDescriptor
{
    /// <summary>Portkey's provider slug, e.g. <c>openai</c>, <c>together-ai</c>.</summary>
    public required string Slug { get; init; }

    /// <summary>Default base URL, ending before the OpenAI path (<c>/chat/completions</c>); null when a custom_host is required.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>Which adapter speaks to it; <c>openai</c> for the OpenAI-compatible family.</summary>
    public string Family { get; init; } = "openai";

    public AuthScheme Auth { get; init; } = AuthScheme.Bearer;

    /// <summary>The header for <see cref="AuthScheme.Header"/>.</summary>
    public string? AuthHeader { get; init; }

    /// <summary>Appended to a custom_host before the OpenAI path (Ollama's OpenAI API lives under <c>/v1</c> of the server root).</summary>
    public string CustomHostPathPrefix { get; init; } = "";

    /// <summary>Top-level body parameters the provider rejects; removed before sending.</summary>
    public IReadOnlyList<string> DroppedParameters { get; init; } = [];

    /// <summary>Endpoints the provider does not serve; the gateway answers them itself with a clear 400.</summary>
    public IReadOnlySet<EndpointKind> Unsupported { get; init; } = new HashSet<EndpointKind>();

    /// <summary>Provider fields (config snake_case name) sent as upstream headers, e.g. openai_organization → OpenAI-Organization.</summary>
    public IReadOnlyList<(string Field, string Header)> FieldHeaders { get; init; } = [];

    /// <summary>Serves OpenAI's Responses API (<c>/responses</c>) itself; otherwise the gateway translates it to chat.</summary>
    public bool NativeResponses { get; init; }

    /// <summary>Accepts <c>stream_options.include_usage</c>, so the gateway can ask for usage on every stream.</summary>
    public bool StreamUsageOption { get; init; } = true;
}
