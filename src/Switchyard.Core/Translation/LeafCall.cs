using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Switchyard.Core.Errors;
using Switchyard.Core.Pipeline;
using Switchyard.Core.Providers;
using Switchyard.Core.Requests;
using Switchyard.Core.Streaming;
using Switchyard.Core.Usage;

namespace Switchyard.Core.Translation;

/// <summary>How one leaf target is called for one request: natively (bytes pass through) or translated through canonical chat.</summary>
public abstract class LeafCall
{
    /// <summary>Largest upstream body read whole for translation (non-streamed responses and error bodies).</summary>
    public const int MaxTranslatedBody = 64 << 20;

    public abstract ValueTask<HttpRequestMessage> CreateRequestAsync(CancellationToken ct);

    /// <summary>Turns the upstream response into the one the client gets (status kept).</summary>
    public abstract ValueTask<HttpResponseMessage> AdaptResponseAsync(HttpResponseMessage upstream, CancellationToken ct);

    /// <summary>Plans the call, or returns a gateway error (unsupported endpoint, untranslatable request).</summary>
    /// <param name="usage">Where the response's body wrapper reports usage (the request's context).</param>
    /// <param name="time">The engine's clock, which stamps a translated answer's <c>created</c>.</param>
    public static LeafCall? Plan(GatewayRequest request, ResolvedTarget target, IProviderAdapter adapter, ReadOnlyMemory<byte> body, IUsageSink usage, TimeProvider time, out GatewayError? error)
    {
        error = null;
        var endpoint = request.Endpoint;
        if (adapter.IsNative(endpoint, target))
        {
            return new NativeCall(request, target, adapter, body, usage);
        }
        var ingress = endpoint.IsTranslatable() ? IngressProtocols.For(endpoint) : null;
        if (ingress is null || adapter.Chat is null)
        {
            error = new GatewayError(ErrorCategory.UnsupportedEndpoint, $"{endpoint.FnName()} is not supported by {target.Provider.Slug}")
            {
                Provider = target.Provider.Slug,
            };
            return null;
        }
        try
        {
            var chat = ingress.ToChat(body);
            return new TranslatedCall(ingress, adapter.Chat, new ChatCall
            {
                Request = request, Target = target, Body = chat, Created = time.GetUtcNow().ToUnixTimeSeconds(),
            }, usage);
        }
        catch (TranslationException ex)
        {
            error = GatewayError.Invalid(ex.Message) with { Provider = target.Provider.Slug };
            return null;
        }
    }

    internal static async ValueTask<byte[]> ReadBodyAsync(HttpResponseMessage upstream, CancellationToken ct)
    {
        if (upstream.Content.Headers.ContentLength > MaxTranslatedBody)
        {
            throw new TranslationException($"The upstream response is larger than {MaxTranslatedBody >> 20} MB", 502);
        }
        var stream = await upstream.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int n;
                while ((n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + n > MaxTranslatedBody)
                    {
                        throw new TranslationException($"The upstream response is larger than {MaxTranslatedBody >> 20} MB", 502);
                    }
                    buffer.Write(chunk, 0, n);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            return buffer.ToArray();
        }
    }

    /// <summary>A new response with the upstream's status and non-content headers, and <paramref name="content"/>.</summary>
    /// <param name="contentMoved">True when <paramref name="content"/> now owns the upstream body stream, which must stay open.</param>
    internal static HttpResponseMessage Replace(HttpResponseMessage upstream, HttpContent content, bool contentMoved = false)
    {
        var response = new HttpResponseMessage(upstream.StatusCode) { Content = content, Version = upstream.Version };
        foreach (var (name, values) in upstream.Headers.NonValidated)
        {
            response.Headers.TryAddWithoutValidation(name, values);
        }
        if (contentMoved)
        {
            upstream.Content = null;
        }
        upstream.Dispose();
        return response;
    }
}

/// <summary>
/// The target speaks the client's protocol: bytes pass through. Chat streams ask upstream for usage and hide it again
/// if the client did not ask; other successful JSON and event-stream answers are tapped for their usage when it is wanted.
/// </summary>
internal sealed class NativeCall : LeafCall
{
    private readonly UpstreamCall _call;
    private readonly IProviderAdapter _adapter;
    private readonly bool _stripUsage;
    private readonly IUsageSink _usage;

    public NativeCall(GatewayRequest request, ResolvedTarget target, IProviderAdapter adapter, ReadOnlyMemory<byte> body, IUsageSink usage)
    {
        _adapter = adapter;
        _usage = usage;
        if (request.Endpoint == EndpointKind.ChatComplete && request.BodyFacts.Stream && target.Provider.StreamUsageOption
            && UsageInjection.TryAdd(body, out var withUsage))
        {
            body = withUsage;
            _stripUsage = true;
        }
        _call = UpstreamCall.Native(request, target, body);
    }

    public override ValueTask<HttpRequestMessage> CreateRequestAsync(CancellationToken ct) => _adapter.CreateRequestAsync(_call, ct);

    public override ValueTask<HttpResponseMessage> AdaptResponseAsync(HttpResponseMessage upstream, CancellationToken ct)
    {
        if (!upstream.IsSuccessStatusCode)
        {
            return ValueTask.FromResult(upstream);
        }
        var mediaType = upstream.Content.Headers.ContentType?.MediaType;
        var isEventStream = mediaType == "text/event-stream";
        if (!_stripUsage || !isEventStream)
        {
            if (_usage.WantsUsage && (isEventStream || mediaType == "application/json"))
            {
                return ValueTask.FromResult(Replace(upstream, new UsageTapContent(upstream.Content, isEventStream, _usage), contentMoved: true));
            }
            return ValueTask.FromResult(upstream);
        }
        var content = new UsageStrippingContent(upstream.Content, _usage);
        foreach (var (name, values) in upstream.Content.Headers.NonValidated)
        {
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(name, values);
            }
        }
        return ValueTask.FromResult(Replace(upstream, content, contentMoved: true));
    }
}

/// <summary>The client's protocol is translated to the provider's chat dialect and back.</summary>
internal sealed class TranslatedCall(IIngressProtocol ingress, IChatDialect dialect, ChatCall call, IUsageSink usage) : LeafCall
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly MediaTypeHeaderValue EventStream = new("text/event-stream");

    public override async ValueTask<HttpRequestMessage> CreateRequestAsync(CancellationToken ct)
    {
        try
        {
            return await dialect.CreateRequestAsync(call, ct).ConfigureAwait(false);
        }
        catch (TranslationException ex)
        {
            // 400: the request cannot be expressed for this provider. Anything else (a credential exchange that
            // failed, e.g. a refused service-account token) is the upstream side's failure: 502.
            var error = ex.Status == 400 ? GatewayError.Invalid(ex.Message) : new GatewayError(ErrorCategory.BadUpstreamResponse, ex.Message);
            throw new GatewayErrorException(error with { Provider = call.Target.Provider.Slug });
        }
    }

    public override async ValueTask<HttpResponseMessage> AdaptResponseAsync(HttpResponseMessage upstream, CancellationToken ct)
    {
        var provider = call.Target.Provider.Slug;
        var status = (int)upstream.StatusCode;
        if (status >= 400)
        {
            var body = await ReadBodyAsync(upstream, ct).ConfigureAwait(false);
            var error = dialect.ReadError(status, body, upstream.Headers, call);
            return Replace(upstream, JsonContent(ingress.ErrorBody(status, error, provider)));
        }
        if (call.Stream)
        {
            var source = await upstream.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var content = new TranslatedStreamContent(source, dialect.CreateStreamDecoder(call), ingress.CreateStreamEncoder(call), usage);
            content.Headers.ContentType = EventStream;
            return Replace(upstream, content, contentMoved: true);
        }
        try
        {
            var body = await ReadBodyAsync(upstream, ct).ConfigureAwait(false);
            var completion = dialect.ToChatCompletion(body, call);
            var bytes = ingress.FromChat(completion, call);
            if (completion["usage"] is JsonObject canonicalUsage)
            {
                usage.ReportUsage(CanonicalUsage.Read(canonicalUsage), ChatJson.String(completion["model"]));
            }
            return Replace(upstream, JsonContent(bytes));
        }
        catch (TranslationException ex)
        {
            upstream.Dispose();
            throw new GatewayErrorException(new GatewayError(ErrorCategory.BadUpstreamResponse, ex.Message) { Provider = provider });
        }
    }

    private static ByteArrayContent JsonContent(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = Json;
        return content;
    }
}

/// <summary>A gateway error raised while building or adapting an upstream call; the router turns it into the outcome.</summary>
public sealed class GatewayErrorException(GatewayError error) : Exception(error.Message)
{
    public GatewayError Error { get; } = error;
}
