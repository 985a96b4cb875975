// tee: sends every buffer to each of its src pads (each branch gets the same
// Buffer: one more reference, no copy of the bytes).

#include <parallax/element.hpp>

namespace parallax {
namespace {

class Tee final : public Element {
public:
    static constexpr ElementInfo info{.factory = "tee",
                                      .klass = "Generic",
                                      .summary = "1-to-N pipe fitting",
                                      .description = "Sends each buffer and event to every src pad; the bytes are "
                                                     "shared, not copied."};
    static std::vector<PadTemplate> pad_templates() {
        return {{"sink", PadDirection::sink, PadPresence::always, Caps::any()},
                {"src_%u", PadDirection::src, PadPresence::request, Caps::any()}};
    }

protected:
    void init() override { sink_ = pad("sink"); }
    Result<void> start() override {
        srcs_ = src_pads();
        return {};
    }

    // Every branch gets the same buffer: a meta goes on only where every
    // linked branch understands it.
    bool query(Pad& pad, Query& q) override {
        if (q.type() != QueryType::allocation || pad.direction() != PadDirection::sink) {
            return Element::query(pad, q);
        }
        bool answered = false;
        for (Pad* src : srcs_) {
            if (!src->is_linked()) {
                continue; // what goes there is not read
            }
            Query branch = Query::allocation(q.caps_argument());
            if (!src->peer_query(branch)) {
                return false;
            }
            if (!answered) {
                for (const std::string& api : branch.metas()) {
                    q.add_meta(api);
                }
                answered = true;
            } else {
                q.intersect_metas(branch);
            }
        }
        return answered;
    }

    Flow chain(Pad&, Buffer&& buffer) override {
        if (srcs_.empty()) {
            return allow_not_linked_.get() ? Flow::ok : Flow::not_linked;
        }
        std::size_t eos = 0;
        std::size_t not_linked = 0;
        const std::size_t n = srcs_.size();
        for (std::size_t i = 0; i < n; ++i) {
            // The last branch takes the caller's reference: no extra increment.
            const Flow f = i + 1 == n ? srcs_[i]->push(std::move(buffer)) : srcs_[i]->push(Buffer(buffer));
            switch (f) {
            case Flow::ok:
            case Flow::dropped:
                break;
            case Flow::eos:
                ++eos;
                break;
            case Flow::not_linked:
                ++not_linked;
                break;
            default:
                return f;
            }
        }
        if (eos == n) {
            return Flow::eos;
        }
        if (not_linked == n && !allow_not_linked_.get()) {
            return Flow::not_linked;
        }
        return Flow::ok;
    }

    void pad_requested(Pad&) override {
        if (state() >= State::paused) {
            srcs_ = src_pads();
        }
    }

private:
    Pad* sink_ = nullptr;
    std::vector<Pad*> srcs_;
    Property<bool> allow_not_linked_{this, "allow-not-linked", false,
                                     "Return OK even when no src pad is linked", Mutability::running};
};

} // namespace
} // namespace parallax

PARALLAX_REGISTER_ELEMENT(parallax::Tee);
