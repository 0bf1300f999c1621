namespace Switchyard.Core.Logs.Delivery;

/// <summary>One file in the spill directory, as listed.</summary>
internal readonly record struct SpillEntry(string Path, string Name, long Length);
