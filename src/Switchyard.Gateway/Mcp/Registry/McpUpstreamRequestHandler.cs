using System.Net;
using System.Net.Http.Headers;

namespace Switchyard.Gateway.Mcp.Registry;

/// <summary>
/// Every HTTP request of one upstream connection passes here: it must stay on the configured origin (an SSE <c>endpoint</c> event
/// or any other URL learnt from the upstream cannot send the gateway elsewhere), and it gets the OAuth bearer, renewed before expiry.
/// </summary>
public sealed class McpUpstreamRequestHandler : DelegatingHandler
{
    private readonly McpUpstreamServer _server;
    private readonly McpClientCredentialsTokens? _tokens;

    public McpUpstreamRequestHandler(McpUpstreamServer server, McpClientCredentialsTokens? tokens, HttpMessageHandler inner) : base(inner)
    {
        _server = server;
        _tokens = tokens;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_server.Url is not { } configured || request.RequestUri is not { } target || !McpUpstreamUrl.SameOrigin(configured, target))
        {
            throw new HttpRequestException(HttpRequestError.Unknown,
                $"Upstream MCP server '{_server.Id}' named an endpoint on another origin ({request.RequestUri?.GetLeftPart(UriPartial.Authority) ?? "none"}); "
                + "the gateway only sends requests to the origin configured in the servers file");
        }
        var usedToken = false;
        if (_tokens is not null && _server.ClientCredentials is not null)
        {
            var token = await _tokens.GetAsync(_server, cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            usedToken = true;
        }
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (usedToken && response.StatusCode == HttpStatusCode.Unauthorized)
        {
            // Revoked or rotated early: the next request (or reconnect) fetches a fresh token.
            _tokens!.Invalidate(_server);
        }
        return response;
    }
}
