//! Building blocks shared by the SNGAN, SAGAN and BigGAN models.

pub mod attention;
pub mod batch_norm;
pub mod resblock;
pub mod tangent;
