using System.Text.Json;

namespace Switchyard.Core.Requests;

/// <summary>One client request as the engine sees it: the body stays bytes until something needs more.</summary>
public sealed class GatewayRequest
{
    private RequestBodyFacts? _facts;
    private JsonDocument? _document;

    public required string Method { get; init; }

    public required EndpointKind Endpoint { get; init; }

    /// <summary>The full request path, e.g. <c>/v1/chat/completions</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The path below <c>/v1</c>, appended to a provider's base URL, e.g. <c>/chat/completions</c>.</summary>
    public required string UpstreamPath { get; init; }

    /// <summary>The query string including its leading <c>?</c>, or empty.</summary>
    public string QueryString { get; init; } = "";

    public required IRequestHeaders Headers { get; init; }

    public ReadOnlyMemory<byte> Body { get; init; }

    public string? ContentType { get; init; }

    public bool IsJson => ContentType is not null && ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Model and stream flag read once from a JSON body (default facts for other bodies).</summary>
    public RequestBodyFacts BodyFacts => _facts ??= IsJson ? RequestBodyFacts.Read(Body.Span) : default;

    /// <summary>The parsed body for features that query it (conditional routing); an empty object when it is not JSON.</summary>
    public JsonElement ParsedBody
    {
        get
        {
            if (_document is null)
            {
                // IsValidJson as well as IsObject: an object followed by junk is an object that JsonDocument would refuse to parse.
                _document = IsJson && BodyFacts is { IsValidJson: true, IsObject: true } ? JsonDocument.Parse(Body) : JsonDocument.Parse("{}"u8.ToArray());
            }
            return _document.RootElement;
        }
    }
}
