using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Errors;
using Switchyard.Core.Requests;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Providers.Azure;

/// <summary>
/// Azure OpenAI: OpenAI's wire format behind Azure's addressing (<c>/deployments/{id}/{op}?api-version=…</c>, or the
/// <c>/v1/</c> form) and Azure's auth (<c>api-key</c>, an Entra bearer token given or obtained).
/// </summary>
public sealed class AzureOpenAiAdapter : IProviderAdapter
{
    /// <summary>The <c>api_version</c> that selects the version-less <c>/openai/v1/</c> API.</summary>
    public const string V1 = "v1";

    private static readonly string[] DeploymentOps =
        ["/chat/completions", "/completions", "/embeddings", "/images/generations", "/images/edits", "/audio/"];

    // Held as object and built on first use: the token source's Azure.Identity types load (≈3 MB of RSS) only
    // when a target actually uses Entra auth.
    private readonly Func<string, string?> _environment;
    private readonly Security.ExtraCaTrust? _trust;
    private readonly TimeProvider _time;
    private object? _tokens;

    /// <summary>An adapter reading the process environment and the system clock, trusting the system CAs only.</summary>
    public AzureOpenAiAdapter()
        : this(null, null)
    {
    }

    /// <param name="environment">Where <c>AZURE_*</c> variables are read (the gateway's environment accessor).</param>
    /// <param name="trust">Extra CAs for the token endpoints (<c>UPSTREAM_CA_FILE</c>).</param>
    /// <param name="time">The engine's clock, for token expiry (ProviderRegistry.Create passes the context's).</param>
    public AzureOpenAiAdapter(Func<string, string?>? environment, Security.ExtraCaTrust? trust, TimeProvider? time = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _trust = trust;
        // The system clock only for an adapter built outside the registry (tests, tools); the registry passes the engine's.
        _time = time ?? TimeProvider.System;
        Chat = new OpenAiChatDialect(this);
    }

    public string Family => "azure-openai";

    public IChatDialect? Chat { get; }

    /// <summary>Token issuance bookkeeping, for diagnostics and tests.</summary>
    public AzureTokenSource Tokens => (AzureTokenSource)LazyInitializer.EnsureInitialized(ref _tokens, CreateTokens);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private object CreateTokens() => new AzureTokenSource(_environment, _trust, _time);

    /// <summary>Every OpenAI endpoint, the Responses API included; Anthropic's Messages is translated to chat.</summary>
    public bool IsNative(EndpointKind endpoint, ResolvedTarget target) => endpoint != EndpointKind.Messages;

    public GatewayError? Check(GatewayRequest request, ResolvedTarget target)
    {
        string? problem = null;
        if (target.BaseUrl.Contains("{resource_name}", StringComparison.Ordinal) && ResourceName(target) is null)
        {
            problem = "azure-openai needs resource_name (x-portkey-azure-resource-name)";
        }
        else if (ApiVersion(target) is null)
        {
            problem = "azure-openai needs api_version (x-portkey-azure-api-version), e.g. 2024-10-21, or v1";
        }
        else if (ApiVersion(target) != V1 && DeploymentId(target) is null
            && (request.Endpoint is EndpointKind.Messages || IsDeploymentOp(request.UpstreamPath)))
        {
            problem = "azure-openai needs deployment_id (x-portkey-azure-deployment-id)";
        }
        return problem is null ? null : GatewayError.Invalid(problem) with { Provider = target.Provider.Slug };
    }

    public async ValueTask<HttpRequestMessage> CreateRequestAsync(UpstreamCall call, CancellationToken ct)
    {
        var target = call.Target;
        var apiVersion = ApiVersion(target) ?? throw Invalid(target, "azure-openai needs api_version");
        var deployment = DeploymentId(target);
        var baseUrl = BaseUrl(target);
        var op = call.UpstreamPath;
        var clientQuery = call.Endpoint == call.Request.Endpoint ? call.Request.QueryString : "";
        var body = call.Body;
        string url;
        if (apiVersion == V1)
        {
            url = baseUrl + "/v1" + op + clientQuery;
            if (deployment is not null && call.Endpoint.HasJsonBody())
            {
                body = WithModel(body, deployment);
            }
        }
        else
        {
            var query = "?api-version=" + Uri.EscapeDataString(apiVersion) + OtherParameters(clientQuery);
            if (IsDeploymentOp(op))
            {
                if (deployment is null)
                {
                    throw Invalid(target, "azure-openai needs deployment_id");
                }
                url = baseUrl + "/deployments/" + Uri.EscapeDataString(deployment) + op + query;
            }
            else
            {
                url = baseUrl + op + query;
                if (call.Endpoint == EndpointKind.CreateModelResponse && deployment is not null)
                {
                    body = WithModel(body, deployment);
                }
            }
        }

        var message = OpenAiCompatibleAdapter.CreateRequest(call with { Body = body });
        message.RequestUri = new Uri(url);
        var bearer = await BearerTokenAsync(target, ct).ConfigureAwait(false);
        if (bearer is not null)
        {
            message.Headers.Remove("api-key");
            message.Headers.Remove("Authorization");
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }
        return message;
    }

    /// <summary>The bearer token for the target, or null to use <c>api-key</c>: azure_ad_token, else the azure_auth_mode credential.</summary>
    private async ValueTask<string?> BearerTokenAsync(ResolvedTarget target, CancellationToken ct)
    {
        if (target.Field("azure_ad_token") is { } given)
        {
            return given.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? given["Bearer ".Length..].Trim() : given;
        }
        var mode = target.Field("azure_auth_mode")?.ToLowerInvariant();
        if (mode is null or "api_key" or "apikey" or "api-key" or "key")
        {
            return null;
        }
        try
        {
            return await Tokens.GetTokenAsync(mode, target, ct).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw Invalid(target, ex.Message);
        }
    }

    private static string? ResourceName(ResolvedTarget t) => t.Field("resource_name", "azure_resource_name");

    private static string? DeploymentId(ResolvedTarget t) => t.Field("deployment_id", "azure_deployment_id", "deployment", "azure_deployment");

    private static string? ApiVersion(ResolvedTarget t) => t.Field("api_version", "azure_api_version");

    private static string BaseUrl(ResolvedTarget target)
    {
        var url = target.BaseUrl;
        if (url.Contains("{resource_name}", StringComparison.Ordinal))
        {
            var resource = ResourceName(target) ?? throw Invalid(target, "azure-openai needs resource_name");
            url = url.Replace("{resource_name}", Uri.EscapeDataString(resource), StringComparison.Ordinal);
        }
        return url.TrimEnd('/');
    }

    private static bool IsDeploymentOp(string op)
    {
        foreach (var prefix in DeploymentOps)
        {
            if (op.StartsWith(prefix, StringComparison.Ordinal) && (prefix.EndsWith('/') || op.Length == prefix.Length))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The client's query parameters other than api-version, each prefixed with <c>&amp;</c>.</summary>
    internal static string OtherParameters(string clientQuery)
    {
        if (clientQuery.Length <= 1)
        {
            return "";
        }
        var kept = clientQuery.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("api-version=", StringComparison.OrdinalIgnoreCase) && !p.Equals("api-version", StringComparison.OrdinalIgnoreCase));
        var joined = string.Join('&', kept);
        return joined.Length == 0 ? "" : "&" + joined;
    }

    /// <summary>The JSON body with <c>model</c> set to the deployment (the v1 API and the Responses API address deployments by model).</summary>
    internal static ReadOnlyMemory<byte> WithModel(ReadOnlyMemory<byte> body, string deployment)
    {
        try
        {
            if (JsonNode.Parse(body.Span) is JsonObject root)
            {
                root["model"] = deployment;
                return JsonSerializer.SerializeToUtf8Bytes(root, JsonNodeContext.Default.JsonObject);
            }
        }
        catch (JsonException)
        {
        }
        return body;
    }

    private static GatewayErrorException Invalid(ResolvedTarget target, string message) =>
        new(GatewayError.Invalid(message) with { Provider = target.Provider.Slug });
}
