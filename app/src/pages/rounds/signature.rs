//! A signature pad: a finger draws on a canvas; "save" keeps the drawing as a PNG on the
//! phone (uploaded with the photos) and hands its reference on.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::document::BlobRef;
use wasm_bindgen::JsCast as _;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};

use crate::i18n::use_texts;
use crate::photos;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// The point of `event` in the canvas's own pixels (it is drawn at its CSS size).
fn point(canvas: &HtmlCanvasElement, event: &PointerEvent) -> (f64, f64) {
    let bounds = canvas.get_bounding_client_rect();
    let scale_x = f64::from(canvas.width()) / bounds.width().max(1.0);
    let scale_y = f64::from(canvas.height()) / bounds.height().max(1.0);
    ((f64::from(event.client_x()) - bounds.left()) * scale_x, (f64::from(event.client_y()) - bounds.top()) * scale_y)
}

#[component]
pub fn SignaturePad(on_signed: Callback<BlobRef>) -> impl IntoView {
    let texts = use_texts();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let drawing = RwSignal::new(false);
    let has_ink = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // The canvas takes the width it is shown at, so lines are not stretched.
    canvas.on_load(|canvas| {
        let width = canvas.client_width().max(280);
        canvas.set_width(width as u32);
        canvas.set_height(160);
        if let Some(context) = context(&canvas) {
            context.set_line_width(3.0);
            context.set_line_cap("round");
            context.set_line_join("round");
        }
    });
    let down = move |event: PointerEvent| {
        let Some(canvas) = canvas.get_untracked() else { return };
        event.prevent_default();
        let _ = canvas.set_pointer_capture(event.pointer_id());
        let (x, y) = point(&canvas, &event);
        if let Some(context) = context(&canvas) {
            context.begin_path();
            context.move_to(x, y);
            // A tap leaves a dot.
            context.line_to(x + 0.5, y + 0.5);
            context.stroke();
        }
        drawing.set(true);
        has_ink.set(true);
    };
    let moved = move |event: PointerEvent| {
        if !drawing.get_untracked() {
            return;
        }
        let Some(canvas) = canvas.get_untracked() else { return };
        let (x, y) = point(&canvas, &event);
        if let Some(context) = context(&canvas) {
            context.line_to(x, y);
            context.stroke();
        }
    };
    let clear = move |_| {
        if let Some(canvas) = canvas.get_untracked()
            && let Some(context) = context(&canvas)
        {
            context.clear_rect(0.0, 0.0, f64::from(canvas.width()), f64::from(canvas.height()));
        }
        has_ink.set(false);
    };
    let save = move |_| {
        let Some(element) = canvas.get_untracked() else { return };
        saving.set(true);
        spawn_local(async move {
            match photos::keep_drawing(&element).await {
                Ok(signature) => on_signed.run(signature),
                Err(message) => error.set(Some(message.to_string())),
            }
            saving.set(false);
        });
    };
    view! {
        <div class="signature-pad">
            <canvas
                node_ref=canvas
                class="signature-canvas"
                data-signature="pad"
                aria-label=move || texts.get().sign_here
                on:pointerdown=down
                on:pointermove=moved
                on:pointerup=move |_| drawing.set(false)
                on:pointercancel=move |_| drawing.set(false)
            ></canvas>
            <div class="signature-actions">
                <button type="button" on:click=clear prop:disabled=move || !has_ink.get()>{move || texts.get().clear}</button>
                <button type="button" class="primary" data-action="save-signature" on:click=save prop:disabled=move || !has_ink.get() || saving.get()>
                    {move || texts.get().save_signature}
                </button>
            </div>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </div>
    }
}
