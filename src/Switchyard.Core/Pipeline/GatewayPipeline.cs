using Microsoft.Extensions.Logging;
using Switchyard.Core.Errors;
using Switchyard.Core.Requests;
using Switchyard.Core.Routing;

namespace Switchyard.Core.Pipeline;

/// <summary>
/// The engine's one entry point: a <see cref="GatewayRequest"/> in, an answer out (status, headers, a body that is
/// still being produced), with everything learned on the way in the <see cref="RequestContext"/>. The request steps
/// run first (validation, config resolution; later authentication, rate limits, budgets), then the router walks the
/// config and runs the leaf steps. The answer's body completes the context when it has been delivered.
/// </summary>
public sealed class GatewayPipeline
{
    private readonly IRequestStep[] _steps; // an array: a foreach over it allocates no enumerator
    private readonly Router _router;
    private readonly ILogger _logger;

    public GatewayPipeline(IReadOnlyList<IRequestStep> steps, Router router, ILogger logger)
    {
        _steps = [.. steps];
        _router = router;
        _logger = logger;
    }

    public IReadOnlyList<IRequestStep> Steps => _steps;

    public Router Router => _router;

    /// <summary>
    /// Serves the request. Throws <see cref="OperationCanceledException"/> only when <paramref name="clientAborted"/>
    /// fires before the answer exists (the context is then completed as aborted). The <c>x-portkey-*</c> headers are
    /// in <paramref name="context"/> (see <see cref="PortkeyHeaders"/>), not in the returned message.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(GatewayRequest request, RequestContext context, CancellationToken clientAborted)
    {
        context.Request = request;
        try
        {
            foreach (var step in _steps)
            {
                if (await step.RunAsync(context, clientAborted).ConfigureAwait(false) is { } refused)
                {
                    return Answer(context, refused);
                }
            }
            // A step may have replaced the request (a virtual key's "@slug/model" is rewritten to the model the provider sees).
            var outcome = await _router.RouteAsync(context.Request ?? request, context.Plan!, context, clientAborted).ConfigureAwait(false);
            context.Provider = outcome.Provider;
            context.LastUsedOptionIndex = outcome.LastUsedOptionIndex;
            context.RetryAttemptCount = outcome.RetryAttemptCount;
            context.CacheStatus = outcome.CacheStatus ?? Caching.CacheStatus.Disabled;
            if (outcome.Error is { } error)
            {
                outcome.Dispose();
                return Answer(context, error);
            }
            var response = outcome.Response!;
            context.Status = (int)response.StatusCode;
            response.Content = new ObservedContent(response.Content, context, outcome.DetachAttemptScope());
            return response;
        }
        catch (OperationCanceledException) when (clientAborted.IsCancellationRequested)
        {
            // The client left; the upstream call was cancelled with it.
            context.ClientAborted = true;
            context.Complete();
            throw;
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Unhandled error serving {Method} {Path}", request.Method, request.Path);
            return Answer(context, new GatewayError(ErrorCategory.Internal, "Something went wrong"));
        }
    }

    /// <summary>The gateway's own answer for <paramref name="error"/>, in the client's protocol.</summary>
    public static HttpResponseMessage Answer(RequestContext context, GatewayError error)
    {
        context.Error = error;
        context.Status = error.Status;
        var response = ErrorResponses.Create(error, context.Request?.Endpoint ?? EndpointKind.Proxy);
        response.Content = new ObservedContent(response.Content, context);
        return response;
    }
}
