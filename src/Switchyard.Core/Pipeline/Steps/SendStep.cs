using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Switchyard.Core.Errors;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
using Switchyard.Core.Telemetry;
using Switchyard.Core.Translation;

namespace Switchyard.Core.Pipeline.Steps;

/// <summary>
/// One attempt at the provider: builds the upstream request, sends it with the per-attempt timeout (which covers the
/// wait for response headers only, so a long stream is not cut), and adapts the answer to the client's protocol.
/// </summary>
/// <param name="tracing">Spans for attempts; null makes none (an engine always passes one: it costs nothing while tracing is off).</param>
public sealed class SendStep(HttpMessageInvoker upstream, UpstreamOptions options, TimeProvider time, ILogger logger, SwitchyardTracing? tracing = null) : ILeafStep
{
    /// <summary>The attempt's cancellation: the client's hang-up, or the timeout on the engine's clock.</summary>
    private CancellationTokenSource StartScope(CancellationToken clientAborted, TimeSpan timeout)
    {
        if (ReferenceEquals(time, TimeProvider.System))
        {
            // The common case: one linked source, its timer on the system clock.
            var scope = CancellationTokenSource.CreateLinkedTokenSource(clientAborted);
            scope.CancelAfter(timeout);
            return scope;
        }
        return new ClockedScope(clientAborted, timeout, time);
    }

    /// <summary>A timeout on an injected clock (tests advance it), cancelled too when the client hangs up.</summary>
    private sealed class ClockedScope : CancellationTokenSource
    {
        private readonly CancellationTokenRegistration _link;

        public ClockedScope(CancellationToken clientAborted, TimeSpan timeout, TimeProvider time)
            : base(timeout, time)
        {
            _link = clientAborted.UnsafeRegister(static s =>
            {
                try
                {
                    ((CancellationTokenSource)s!).Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The attempt ended first.
                }
            }, this);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _link.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    // One async method per attempt (not a send method awaited by a step method): each awaited layer is another
    // state machine and continuation on the hot path. The pooled builder reuses the state machine between requests.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RunAsync(LeafExchange leaf, CancellationToken clientAborted)
    {
        var timeoutMs = leaf.Plan.Headers.RequestTimeoutMs ?? leaf.Target.Settings.RequestTimeoutMs;
        var timeout = timeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : options.RequestTimeout;
        var context = leaf.Context;
        var started = context.Elapsed;
        var call = leaf.Call!;
        var target = leaf.Target;
        var model = AttemptModel(leaf);
        var span = tracing?.StartAttempt(leaf, model);
        var scope = StartScope(clientAborted, timeout);
        HttpRequestMessage? message = null;
        RouteOutcome outcome;
        try
        {
            message = await call.CreateRequestAsync(scope.Token).ConfigureAwait(false);
            if (target.ExtraHeaders is { } extra)
            {
                AddExtraHeaders(message, extra);
            }
            if (span is not null)
            {
                SwitchyardTracing.Propagate(span, message);
            }
            var response = await upstream.SendAsync(message, scope.Token).ConfigureAwait(false);
            scope.CancelAfter(Timeout.InfiniteTimeSpan);
            outcome = RouteOutcome.FromResponse(await call.AdaptResponseAsync(response, clientAborted).ConfigureAwait(false), scope);
        }
        catch (GatewayErrorException ex)
        {
            scope.Dispose();
            outcome = RouteOutcome.FromError(ex.Error);
        }
        catch (OperationCanceledException) when (!clientAborted.IsCancellationRequested)
        {
            scope.Dispose();
            var shown = timeoutMs ?? (int)timeout.TotalMilliseconds;
            outcome = RouteOutcome.FromError(new GatewayError(ErrorCategory.Timeout, $"Request exceeded the timeout sent in the request: {shown}ms") { Provider = target.Provider.Slug });
        }
        catch (HttpRequestException ex) when (!clientAborted.IsCancellationRequested)
        {
            scope.Dispose();
            var host = message?.RequestUri?.Authority ?? target.BaseUrl;
            var reason = ex.InnerException is SocketException se ? se.SocketErrorCode.ToString() : ex.HttpRequestError.ToString();
            logger.LogWarning("Upstream {Provider} at {Host} unreachable: {Reason}", target.Provider.Slug, host, reason);
            outcome = RouteOutcome.FromError(new GatewayError(ErrorCategory.UpstreamUnreachable,
                $"Could not reach {target.Provider.Slug} at {host}: {Describe(ex)}") { Provider = target.Provider.Slug });
        }
        catch
        {
            scope.Dispose();
            span?.Stop();
            throw;
        }
        finally
        {
            message?.Dispose();
        }
        leaf.Finish(outcome);
        context.AddAttempt(new AttemptRecord(leaf.Leaf.OptionPath, target.Provider.Slug, outcome.Status, leaf.Attempt,
            outcome.Error is { } error ? GenAiConventions.ErrorTypeOf(error.Category) : "response", (context.Elapsed - started).TotalMilliseconds)
        {
            Model = model,
            StartedMs = started.TotalMilliseconds,
        });
        if (span is not null)
        {
            SwitchyardTracing.EndAttempt(span, leaf, outcome, message?.RequestUri);
        }
    }

    /// <summary>A virtual key's operator-set headers; they replace a header of the same name the adapter set.</summary>
    private static void AddExtraHeaders(HttpRequestMessage message, IReadOnlyDictionary<string, string> extra)
    {
        foreach (var (name, value) in extra)
        {
            message.Headers.Remove(name);
            if (!message.Headers.TryAddWithoutValidation(name, value) && message.Content is { } content)
            {
                content.Headers.Remove(name);
                content.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    /// <summary>The model this attempt asks for: the target's <c>override_params.model</c> wins over the client's.</summary>
    private static string? AttemptModel(LeafExchange leaf) =>
        leaf.Target.Settings.OverrideParams is { } overrides && overrides.TryGetPropertyValue("model", out var node)
            && node is System.Text.Json.Nodes.JsonValue value && value.TryGetValue<string>(out var model)
            ? model
            : leaf.Request.BodyFacts.Model;

    private static string Describe(HttpRequestException ex) => ex.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain } => "host not found",
        SocketException s => s.SocketErrorCode.ToString(),
        _ => ex.HttpRequestError switch
        {
            HttpRequestError.ResponseEnded => "the connection closed before a response arrived",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.InvalidResponse => "the upstream sent an invalid HTTP response",
            _ => ex.HttpRequestError.ToString(),
        },
    };
}
