using System.Collections.Frozen;
using Switchyard.Core.Errors;
using Switchyard.Core.Requests;

namespace Switchyard.Core.Telemetry;

/// <summary>
/// The OpenTelemetry GenAI vocabulary the gateway speaks: attribute names, and our provider slugs and endpoints mapped
/// to the conventions' well-known values. Values are interned strings so recording a measurement allocates nothing.
/// </summary>
public static class GenAiConventions
{
    public const string OperationName = "gen_ai.operation.name";
    public const string ProviderName = "gen_ai.provider.name";

    /// <summary>The provider attribute before v1.37 renamed it; spans still carry it for consumers of that generation.</summary>
    public const string LegacySystem = "gen_ai.system";

    public const string RequestModel = "gen_ai.request.model";
    public const string ResponseModel = "gen_ai.response.model";
    public const string RequestStream = "gen_ai.request.stream";
    public const string TokenType = "gen_ai.token.type";
    public const string TokenModality = "gen_ai.token.modality";
    public const string UsageInputTokens = "gen_ai.usage.input_tokens";
    public const string UsageOutputTokens = "gen_ai.usage.output_tokens";
    public const string UsageCacheReadTokens = "gen_ai.usage.cache_read.input_tokens";

    /// <summary>v1.41's name for prompt-cache writes; the genai repo renamed it <see cref="UsageCacheWriteTokens"/>.</summary>
    public const string UsageCacheCreationTokens = "gen_ai.usage.cache_creation.input_tokens";

    public const string UsageCacheWriteTokens = "gen_ai.usage.cache_write.input_tokens";
    public const string UsageReasoningTokens = "gen_ai.usage.reasoning.output_tokens";
    public const string ResponseTimeToFirstChunk = "gen_ai.response.time_to_first_chunk";
    public const string ErrorType = "error.type";
    public const string HttpStatusCode = "http.response.status_code";
    public const string HttpRequestMethod = "http.request.method";
    public const string UrlPath = "url.path";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";

    // Well-known gen_ai.provider.name values; a provider without one keeps its Switchyard slug.
    private static readonly FrozenDictionary<string, string> Providers = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["openai"] = "openai",
        ["anthropic"] = "anthropic",
        ["azure-openai"] = "azure.ai.openai",
        ["google"] = "gcp.gemini",
        ["vertex-ai"] = "gcp.vertex_ai",
        ["bedrock"] = "aws.bedrock",
        ["deepseek"] = "deepseek",
        ["groq"] = "groq",
        ["mistral-ai"] = "mistral_ai",
        ["perplexity-ai"] = "perplexity",
        ["x-ai"] = "x_ai",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] ErrorCategories = Enum.GetNames<ErrorCategory>();

    // "446", "500" …: error.type for an answer the upstream (or a guardrail) failed, without a string per request.
    private static readonly string[] StatusTexts = Enumerable.Range(0, 600).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The <c>gen_ai.provider.name</c> of a provider slug (<c>azure-openai</c> → <c>azure.ai.openai</c>).</summary>
    public static string Provider(string slug) => Providers.TryGetValue(slug, out var name) ? name : slug;

    /// <summary>
    /// The <c>gen_ai.operation.name</c> of an endpoint: <c>chat</c> for the three chat protocols, <c>text_completion</c>,
    /// <c>embeddings</c>; other endpoints keep Portkey's function name (<c>imageGenerate</c>, <c>rerank</c>, …).
    /// </summary>
    public static string Operation(EndpointKind kind) => kind switch
    {
        EndpointKind.ChatComplete or EndpointKind.Messages or EndpointKind.CreateModelResponse => "chat",
        EndpointKind.Complete => "text_completion",
        EndpointKind.Embed => "embeddings",
        _ => kind.FnName(),
    };

    /// <summary><c>error.type</c> of a gateway failure: its category (<c>Timeout</c>, <c>UpstreamUnreachable</c>, …).</summary>
    public static string ErrorTypeOf(ErrorCategory category) => (uint)category < (uint)ErrorCategories.Length ? ErrorCategories[(int)category] : category.ToString();

    /// <summary><c>error.type</c> of an HTTP status (its number as text), or null below 400.</summary>
    public static string? ErrorTypeOf(int status) => status is >= 400 and < 600 ? StatusTexts[status] : status >= 600 ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
}
