using System.Text.Json.Nodes;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Google;

/// <summary>
/// Google Vertex AI (<c>vertex-ai</c>): Gemini models at
/// <c>{base}/v1/projects/{project}/locations/{region}/publishers/google/models/{model}:generateContent</c>
/// (<c>:streamGenerateContent?alt=sse</c>) with an OAuth bearer token.
/// </summary>
/// <remarks>
/// The base URL is a template, <c>https://{region}-aiplatform.googleapis.com</c> (region <c>global</c> →
/// <c>https://aiplatform.googleapis.com</c>). Credentials, in order: <c>vertex_auth_type: workload</c> → metadata
/// server; <c>vertex_service_account_json</c> → token minted from the key; <c>api_key</c> → used as the access token;
/// otherwise workload identity when <c>GCP_AUTH_MODE=workload</c>.
/// Claude models (<c>claude-*</c>, <c>anthropic.*</c>) go to <see cref="AnthropicOnVertex"/>.
/// </remarks>
public sealed class VertexAdapter : IProviderAdapter, IChatDialect
{
    public const string DefaultRegion = "us-central1";

    private readonly Lazy<IChatDialect?> _anthropic;

    public VertexAdapter(string? gcpAuthMode = null, string? metadataHost = null, Func<VertexAdapter, IChatDialect>? anthropicOnVertex = null, TimeProvider? time = null)
    {
        GcpAuthMode = gcpAuthMode;
        MetadataHost = string.IsNullOrWhiteSpace(metadataHost) ? "metadata.google.internal" : metadataHost.Trim();
        AnthropicOnVertex = anthropicOnVertex;
        // The system clock only for adapters built outside the registry (tests); ProviderRegistry.Create passes the context's.
        _time = time ?? TimeProvider.System;
        _anthropic = new Lazy<IChatDialect?>(() => AnthropicOnVertex?.Invoke(this));
    }

    private readonly TimeProvider _time;

    /// <summary><c>GCP_AUTH_MODE</c>: <c>workload</c> makes the metadata server the default credential.</summary>
    public string? GcpAuthMode { get; }

    /// <summary><c>GCE_METADATA_HOST</c> (host[:port]).</summary>
    public string MetadataHost { get; }

    /// <summary>
    /// HOOK for Anthropic models on Vertex (publisher <c>anthropic</c>, <c>:rawPredict</c>/<c>:streamRawPredict</c>):
    /// given this adapter (for <see cref="AccessTokenAsync"/> and <see cref="ModelUrl"/>), returns the Anthropic
    /// chat dialect. Null until the Anthropic codec is wired in; such models then fail with a clear 400.
    /// </summary>
    public Func<VertexAdapter, IChatDialect>? AnthropicOnVertex { get; }

    // Built on first use, so Google.Apis.Auth loads only when a Vertex target needs a minted token.
    private object? _tokens;

    public GoogleTokenSource Tokens => (GoogleTokenSource)LazyInitializer.EnsureInitialized(ref _tokens, () => CreateTokens());

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private object CreateTokens() => new GoogleTokenSource(_time);

    public string Family => "vertex-ai";

    public IChatDialect? Chat => this;

    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => false;

    public ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct) =>
        throw new NotSupportedException("Vertex AI has no native pass-through endpoints");

    /// <summary>A copy with the engine's settings (the token cache starts empty).</summary>

    public static bool IsAnthropicModel(string? model) =>
        model is not null && (model.StartsWith("claude-", StringComparison.OrdinalIgnoreCase) || model.StartsWith("anthropic.", StringComparison.OrdinalIgnoreCase));

    private IChatDialect Anthropic(ChatCall call) => _anthropic.Value
        ?? throw new TranslationException($"Anthropic models on Vertex AI ('{call.Model}') are not available in this build of Switchyard");

    public async ValueTask<HttpRequestMessage> CreateRequestAsync(ChatCall call, CancellationToken ct)
    {
        if (IsAnthropicModel(call.Model))
        {
            return await Anthropic(call).CreateRequestAsync(call, ct).ConfigureAwait(false);
        }
        var model = GoogleAdapter.ModelName(call);
        if (model.StartsWith("google.", StringComparison.Ordinal))
        {
            model = model[7..];
        }
        var url = ModelUrl(call, "google", model, call.Stream ? "streamGenerateContent?alt=sse" : "generateContent");
        var body = GeminiRequest.Build(call.Body);
        var token = await AccessTokenAsync(call, ct).ConfigureAwait(false);
        var message = GoogleAdapter.JsonPost(url, body);
        message.Headers.Authorization = GoogleTokenSource.Bearer(token);
        OpenAiCompatibleAdapter.AddAuthAndForwardedHeaders(message, call.Request, call.Target);
        return message;
    }

    public JsonObject ToChatCompletion(ReadOnlySpan<byte> body, ChatCall call) =>
        IsAnthropicModel(call.Model) ? Anthropic(call).ToChatCompletion(body, call) : GeminiResponse.ToChatCompletion(body, call);

    public IChatStreamDecoder CreateStreamDecoder(ChatCall call) =>
        IsAnthropicModel(call.Model) ? Anthropic(call).CreateStreamDecoder(call) : new GeminiStreamDecoder(call);

    public ProviderError ReadError(int status, ReadOnlySpan<byte> body, ChatCall call) =>
        IsAnthropicModel(call.Model) && _anthropic.Value is { } anthropic ? anthropic.ReadError(status, body, call) : GeminiResponse.ReadError(status, body);

    /// <summary>The region: <c>vertex_region</c>, default us-central1.</summary>
    public static string Region(ChatCall call) => call.Field("vertex_region") ?? DefaultRegion;

    /// <summary>The project: <c>vertex_project_id</c>, else the service account key's <c>project_id</c>.</summary>
    public static string Project(ChatCall call)
    {
        if (call.Field("vertex_project_id") is { } project)
        {
            return project;
        }
        if (call.Field("vertex_service_account_json") is { } json)
        {
            try
            {
                if (ChatJson.String(JsonNode.Parse(json)?["project_id"]) is { Length: > 0 } fromKey)
                {
                    return fromKey;
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }
        throw new TranslationException("Vertex AI needs vertex_project_id");
    }

    /// <summary>The base URL with <c>{region}</c> and <c>{project}</c> filled in.</summary>
    public static string BaseUrl(ChatCall call)
    {
        var region = Region(call);
        var url = call.Target.BaseUrl.Replace("%7B", "{", StringComparison.OrdinalIgnoreCase).Replace("%7D", "}", StringComparison.OrdinalIgnoreCase);
        if (region == "global")
        {
            url = url.Replace("{region}-", "", StringComparison.Ordinal);
        }
        url = url.Replace("{region}", Uri.EscapeDataString(region), StringComparison.Ordinal);
        if (url.Contains("{project}", StringComparison.Ordinal))
        {
            url = url.Replace("{project}", Uri.EscapeDataString(Project(call)), StringComparison.Ordinal);
        }
        return url.TrimEnd('/');
    }

    /// <summary><c>{base}/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}</c>.</summary>
    public static string ModelUrl(ChatCall call, string publisher, string model, string method) =>
        $"{BaseUrl(call)}/v1/projects/{Uri.EscapeDataString(Project(call))}/locations/{Uri.EscapeDataString(Region(call))}/publishers/{publisher}/models/{Uri.EscapeDataString(model)}:{method}";

    /// <summary>The bearer token for this call (see the class remarks for the order of credentials).</summary>
    public async ValueTask<string> AccessTokenAsync(ChatCall call, CancellationToken ct)
    {
        var authType = call.Field("vertex_auth_type")?.Trim().ToLowerInvariant();
        var serviceAccount = call.Field("vertex_service_account_json");
        if (authType == "workload")
        {
            return await Tokens.WorkloadTokenAsync(MetadataHost, ct).ConfigureAwait(false);
        }
        if (serviceAccount is not null)
        {
            return await Tokens.ServiceAccountTokenAsync(serviceAccount, ct).ConfigureAwait(false);
        }
        if (string.Equals(GcpAuthMode, "workload", StringComparison.OrdinalIgnoreCase) && authType is null)
        {
            return await Tokens.WorkloadTokenAsync(MetadataHost, ct).ConfigureAwait(false);
        }
        if (call.Target.ApiKey is { Length: > 0 } key)
        {
            return key;
        }
        throw new TranslationException("Vertex AI needs credentials: api_key (an OAuth access token), vertex_service_account_json, or vertex_auth_type: workload");
    }
}
