using Switchyard.Core.Configs;

namespace Switchyard.Gateway.Endpoints.Admin;

/// <summary>What one store holds after a reload: its generation, state, and what is wrong with its files.</summary>
public sealed record ReloadReport(long Generation, string State, IReadOnlyList<ConfigLoadProblem> Problems, IReadOnlyList<string> Warnings);

/// <summary>
/// A store <c>POST /v1/admin/reload</c> re-reads, registered in DI as a singleton (one per store, in registration order):
/// <c>services.AddSingleton(new ReloadAction("virtual_keys", () => { store.Reload(); return …; }))</c>.
/// </summary>
/// <param name="Name">How the reload answer names the store (<c>keys</c>, <c>configs</c>, <c>virtual_keys</c>, <c>limits</c>).</param>
/// <param name="Reload">Re-reads the store now and reports where it stands; runs on the request's thread.</param>
public sealed record ReloadAction(string Name, Func<IServiceProvider, ReloadReport> Reload);
