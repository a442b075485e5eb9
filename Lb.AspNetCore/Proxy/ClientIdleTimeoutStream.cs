using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Proxy;

/// <summary>
/// The request body of a route with <c>client_timeout</c>: each read may wait that long for the client's next bytes;
/// then it fails with a 408 <see cref="BadHttpRequestException"/>, which the proxy answers as 408. Only routes with a
/// client timeout pay for the wrapper.
/// </summary>
internal sealed class ClientIdleTimeoutStream(Stream inner, TimeSpan idle) : Stream
{
    private CancellationTokenSource _timer = new();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_timer.TryReset())
        {
            _timer.Dispose();
            _timer = new CancellationTokenSource();
        }
        _timer.CancelAfter(idle);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
        try
        {
            return await inner.ReadAsync(buffer, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new BadHttpRequestException("the request body stopped arriving (route client_timeout)", StatusCodes.Status408RequestTimeout);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer.Dispose();
        }
        base.Dispose(disposing);
    }
}
