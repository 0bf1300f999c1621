using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>
/// The separate <c>ADMIN_PORT</c> listener, when there is one: tells a request that came in on it from one on the main port.
/// The port is read from Kestrel's listen options after binding, so <c>ADMIN_PORT=0</c> works too.
/// </summary>
internal sealed class AdminListener
{
    private ListenOptions? _listen;

    public bool IsConfigured => _listen is not null;

    /// <summary>The bound port; -1 before binding or without an admin port.</summary>
    public int Port => _listen?.IPEndPoint?.Port ?? -1;

    public void Attach(ListenOptions listen) => _listen = listen;

    public bool Owns(HttpContext context) => _listen is not null && context.Connection.LocalPort == Port;
}
