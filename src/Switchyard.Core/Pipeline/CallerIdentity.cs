namespace Switchyard.Core.Pipeline;

/// <summary>Who made the request, as established by authentication; <see cref="Anonymous"/> until gateway keys exist.</summary>
public sealed record CallerIdentity(string? KeyId, string? Name, IReadOnlyDictionary<string, string> Claims)
{
    public static readonly CallerIdentity Anonymous = new(null, null, new Dictionary<string, string>());

    public bool IsAuthenticated => KeyId is not null;
}
