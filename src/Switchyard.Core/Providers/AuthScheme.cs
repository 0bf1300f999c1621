namespace Switchyard.Core.Providers;

/// <summary>How a provider expects its credential.</summary>
public enum AuthScheme
{
    /// <summary><c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    Bearer,

    /// <summary>No credential header (local servers such as Ollama).</summary>
    None,

    /// <summary>A named header carries the key (e.g. <c>api-key</c>, <c>x-api-key</c>).</summary>
    Header,
}
