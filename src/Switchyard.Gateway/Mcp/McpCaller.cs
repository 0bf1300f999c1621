using System.Collections.Frozen;
using System.Security.Claims;
using Switchyard.Core.Security.ApiKeys;

namespace Switchyard.Gateway.Mcp;

/// <summary>Who is calling the MCP gateway, as the auth step established it; sessions and upstream connections are bound to <see cref="Id"/>.</summary>
public sealed record McpCaller
{
    /// <summary>The key of <see cref="HttpContext.Items"/> under which the auth step leaves the caller.</summary>
    public const string ItemKey = "switchyard.mcp.caller";

    /// <summary>The claim type carrying <see cref="Id"/> on <see cref="HttpContext.User"/> (the MCP SDK binds sessions to it).</summary>
    public const string IdClaim = ClaimTypes.NameIdentifier;

    /// <summary>A stable, non-secret principal id: <c>key:{name}</c>, <c>jwt:{iss}|{sub}</c>, or <c>anonymous</c>.</summary>
    public required string Id { get; init; }

    /// <summary>A display name for logs and metrics (the key's name, the token's subject).</summary>
    public required string Name { get; init; }

    public string? Team { get; init; }

    public FrozenSet<string> Scopes { get; init; } = FrozenSet<string>.Empty;

    /// <summary>The gateway API key (or the key built from a JWT), when there is one.</summary>
    public ApiKey? Key { get; init; }

    /// <summary><c>none</c>, <c>api_key</c> or <c>jwt</c>.</summary>
    public string AuthType { get; init; } = "none";

    /// <summary>The caller when <c>AUTH_MODE=none</c>: everyone is the same anonymous principal.</summary>
    public static McpCaller Anonymous { get; } = new() { Id = "anonymous", Name = "anonymous" };

    /// <summary>The caller the auth step left on the request, or <see cref="Anonymous"/>.</summary>
    public static McpCaller Of(HttpContext context) => context.Items.TryGetValue(ItemKey, out var value) && value is McpCaller caller ? caller : Anonymous;

    /// <summary>Leaves the caller on the request, and as <see cref="HttpContext.User"/> so the SDK binds sessions to it.</summary>
    public void AttachTo(HttpContext context)
    {
        context.Items[ItemKey] = this;
        context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(IdClaim, Id), new Claim(ClaimTypes.Name, Name)], AuthType));
    }
}
