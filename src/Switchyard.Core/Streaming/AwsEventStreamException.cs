namespace Switchyard.Core.Streaming;

/// <summary>The upstream sent bytes that are not a valid AWS event stream (bad length or checksum).</summary>
public sealed class AwsEventStreamException(string message) : Exception(message);
