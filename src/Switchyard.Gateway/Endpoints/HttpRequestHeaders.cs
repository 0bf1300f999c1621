using Microsoft.Extensions.Primitives;
using Switchyard.Core.Requests;

namespace Switchyard.Gateway.Endpoints;

/// <summary>Adapts Kestrel's header collection to the engine's <see cref="IRequestHeaders"/> without copying.</summary>
internal sealed class HttpRequestHeaders(IHeaderDictionary headers) : IRequestHeaders
{
    public string? Get(string name) => headers.TryGetValue(name, out var v) && !StringValues.IsNullOrEmpty(v) ? v.ToString() : null;

    public IEnumerable<KeyValuePair<string, string>> All()
    {
        foreach (var (name, value) in headers)
        {
            yield return new(name, value.ToString());
        }
    }
}
