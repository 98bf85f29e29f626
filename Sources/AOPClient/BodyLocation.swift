/// The body of a content message.
enum BodyLocation: Equatable {
    case contiguous(Range<Int>)
    case pieces([Range<Int>])
}
