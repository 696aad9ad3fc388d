namespace Herald.Fuzz.Tests;

/// <summary>
/// A small, deterministic stand-in for AFL++'s havoc stage: from a seed and a <see cref="Random"/>, one to four stacked
/// byte-level mutations (bit flips, interesting bytes, dictionary tokens, deleted, repeated or spliced ranges). It finds
/// what a fresh bug makes easy to hit without instrumentation, so the test command can fail on one without AFL++.
/// </summary>
internal sealed class Mutator(Random random, byte[][] seeds, byte[][] tokens)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xC0, 0xED, 0xFF, (byte)'"', (byte)'\\', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'-', (byte)'0', (byte)'\n'];

    /// <summary>A mutant of a random seed.</summary>
    public byte[] Next()
    {
        var data = new List<byte>(seeds[random.Next(seeds.Length)]);
        var count = 1 + random.Next(4);
        for (var i = 0; i < count; i++)
        {
            Mutate(data);
        }
        return [.. data];
    }

    private void Mutate(List<byte> data)
    {
        var at = data.Count == 0 ? 0 : random.Next(data.Count);
        switch (random.Next(data.Count == 0 ? 1 : 8))
        {
            case 0:
                var token = tokens[random.Next(tokens.Length)];
                data.InsertRange(random.Next(data.Count + 1), token);
                break;
            case 1:
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                data[at] = Interesting[random.Next(Interesting.Length)];
                break;
            case 3:
                data[at] = (byte)random.Next(256);
                break;
            case 4:
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(16)));
                break;
            case 5:
                var length = Math.Min(data.Count - at, 1 + random.Next(32));
                var copies = 1 + random.Next(8);
                var range = data.GetRange(at, length);
                for (var c = 0; c < copies; c++)
                {
                    data.InsertRange(at, range);
                }
                break;
            case 6:
                var other = seeds[random.Next(seeds.Length)];
                var from = random.Next(other.Length + 1);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            default:
                var overwrite = tokens[random.Next(tokens.Length)];
                for (var k = 0; k < overwrite.Length && at + k < data.Count; k++)
                {
                    data[at + k] = overwrite[k];
                }
                break;
        }
    }
}
