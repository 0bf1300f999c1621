namespace Switchyard.Core.Logs;

/// <summary>A request's log document, serialised and addressed: what the delivery queue, the spill directory and a store hold.</summary>
public sealed record LogObject(string Key, byte[] Content);
