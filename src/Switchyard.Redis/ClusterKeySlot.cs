using System.Buffers;
using System.Text;

namespace Switchyard.Redis;

/// <summary>The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its {hash tag}, modulo 16384.</summary>
internal static class ClusterKeySlot
{
    public const int SlotCount = 16384;

    private static readonly ushort[] Table = BuildTable();

    public static int Of(string key)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (max <= 512)
        {
            Span<byte> bytes = stackalloc byte[max];
            return Of(bytes[..Encoding.UTF8.GetBytes(key, bytes)]);
        }
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            return Of(rented.AsSpan(0, Encoding.UTF8.GetBytes(key, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static int Of(ReadOnlySpan<byte> key)
    {
        // Only the first '{' counts, and only when a '}' follows with at least one byte between them.
        var open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }
        return Crc16(key) & (SlotCount - 1);
    }

    private static int Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var b in data)
        {
            crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xFF]);
        }
        return crc;
    }

    private static ushort[] BuildTable()
    {
        // CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
            table[i] = crc;
        }
        return table;
    }
}
