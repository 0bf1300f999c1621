namespace Switchyard.Core.Requests;

/// <summary>Read access to the client's request headers without copying them (the server adapts its own header collection).</summary>
public interface IRequestHeaders
{
    /// <summary>The header's value (several values joined with a comma), or null when absent.</summary>
    string? Get(string name);

    /// <summary>Every header as name and value, names as the client sent them.</summary>
    IEnumerable<KeyValuePair<string, string>> All();
}

/// <summary>A dictionary-backed <see cref="IRequestHeaders"/> for in-process use and tests.</summary>
public sealed class HeaderBag : IRequestHeaders
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public HeaderBag() { }

    public HeaderBag(IEnumerable<KeyValuePair<string, string>> values)
    {
        foreach (var (k, v) in values)
        {
            _values[k] = v;
        }
    }

    public HeaderBag Set(string name, string value)
    {
        _values[name] = value;
        return this;
    }

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public IEnumerable<KeyValuePair<string, string>> All() => _values;
}
